"""deploy/k8s (README "Operations"): the production overlay rendered with kustomize (`kubectl kustomize`, the kustomize
built into kubectl: Debian's kubernetes-client, which scripts/kubectl.sh installs, and the machine's newer kubectl too
when it has one: both must give the same objects) and every object checked against the Kubernetes schema with
kubernetes-validate (strict: an unknown field fails too), then against what the code expects: the hash ring's
RASA_URLS names each pod of the Rasa StatefulSet through its headless Service, the probes hit /readyz and /healthz,
the CronJobs run the `bot` commands that are jobs, every secret file the processes read is in the example, the
Ingress routes exactly the gateway's public paths, the migrate Job and the pods that wait for it run real `bot
migrate` command lines, the disruption budgets keep pods serving, and the network policies admit only what they
should."""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml

from bot import jobs
from bot.config import PROJECT_ROOT

K8S = PROJECT_ROOT / "deploy" / "k8s"
OVERLAY = Path("overlays") / "production"
KUBERNETES_VERSION = "1.32.0"  # a current release; CronJob batch/v1 and HPA autoscaling/v2 are GA since 1.23


def project_kubectl() -> str:
    """The kubectl the project installs (Debian's kubernetes-client, kustomize v2.0.3, unpacked by scripts/kubectl.sh,
    which `make test` runs and which installs it here too when missing), or SETTLE_KUBECTL. Never a skip: a machine
    that cannot get one fails the test, saying what to do."""
    if os.environ.get("SETTLE_KUBECTL"):
        return os.environ["SETTLE_KUBECTL"]
    found = subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "kubectl.sh")], capture_output=True, text=True,
                           timeout=300)
    if found.returncode != 0:
        pytest.fail("no kubectl to render deploy/k8s with, and scripts/kubectl.sh could not install Debian's "
                    f"kubernetes-client: set SETTLE_KUBECTL to a kubectl with a built-in kustomize\n{found.stderr}")
    return found.stdout.strip()


def render(tree: Path = K8S, kubectl: str | None = None) -> list[dict[str, Any]]:
    """The production overlay as kustomize builds it, from a copy of `tree` with secrets.env made from the example
    (a real one is never committed)."""
    kubectl = kubectl or project_kubectl()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "k8s"
        shutil.copytree(tree, work)
        shutil.copy(work / OVERLAY / "secrets.env.example", work / OVERLAY / "secrets.env")
        built = subprocess.run([kubectl, "kustomize", str(work / OVERLAY)], capture_output=True, text=True,
                               timeout=60)
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def schema_errors(docs: list[dict[str, Any]]) -> list[str]:
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
            errors.append(f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}: {exc}")
    return errors


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render()


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    pod = spec["jobTemplate"]["spec"]["template"]["spec"] if workload["kind"] == "CronJob" else spec["template"]["spec"]
    return pod["containers"][0]


def test_the_production_overlay_renders_and_matches_the_kubernetes_schema(docs):
    """Mutation tried: `containerPort: "http"` in base/gateway.yaml -> the Deployment failed the schema (a string
    where an integer goes); `podManagementPolicy` misspelt in base/rasa.yaml -> failed as an unknown field."""
    assert schema_errors(docs) == []
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("StatefulSet", "rasa"), ("Deployment", "gateway"), ("Deployment", "actions"),
            ("HorizontalPodAutoscaler", "gateway"), ("Namespace", "settle"), ("Ingress", "gateway"), ("Job", "migrate"),
            ("PodDisruptionBudget", "rasa"), ("PodDisruptionBudget", "gateway"),
            ("PodDisruptionBudget", "actions")} <= kinds
    assert all(d["metadata"].get("namespace") == "settle" for d in docs if d["kind"] != "Namespace")


def test_a_broken_manifest_fails_the_schema_check(docs):
    """The check itself can fail: a replica count given as text, a probe with a field Kubernetes does not have."""
    broken = copy.deepcopy(docs)
    one(broken, "StatefulSet", "rasa")["spec"]["replicas"] = "three"
    container(one(broken, "Deployment", "gateway"))["readinessProbe"]["httpGet"]["route"] = "/readyz"
    errors = schema_errors(broken)
    assert len(errors) == 2 and errors[0].startswith(("StatefulSet/rasa", "Deployment/gateway"))


def test_the_hash_ring_names_every_rasa_pod_through_the_headless_service(docs):
    """bot/gateway/rasa_router.py pins conversations to the URLs in RASA_URLS: they must be the StatefulSet's pods,
    in ordinal order, by <pod>.<headless service>:<port>. Mutation tried: the overlay's RASA_URLS patch removed
    (3 replicas, 2 URLs) -> failed."""
    rasa = one(docs, "StatefulSet", "rasa")
    service = one(docs, "Service", rasa["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= rasa["spec"]["template"]["metadata"]["labels"].items()
    port = service["spec"]["ports"][0]["port"]
    urls = one(docs, "ConfigMap", "settle-config")["data"]["RASA_URLS"].split(",")
    assert urls == [f"http://rasa-{i}.{service['metadata']['name']}:{port}" for i in range(rasa["spec"]["replicas"])]


def test_probes_use_readyz_and_healthz_and_the_autoscaler_targets_the_gateway(docs):
    gateway = container(one(docs, "Deployment", "gateway"))
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    actions = container(one(docs, "Deployment", "actions"))
    assert (actions["readinessProbe"]["httpGet"]["path"], actions["livenessProbe"]["httpGet"]["path"]) == \
        ("/readyz", "/health")
    rasa = container(one(docs, "StatefulSet", "rasa"))
    assert "model_id" in rasa["readinessProbe"]["exec"]["command"]
    target = one(docs, "HorizontalPodAutoscaler", "gateway")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "gateway")


def test_only_the_gateway_runs_prometheus_multiprocess_mode_on_a_writable_directory(docs):
    """prometheus-client in multiprocess mode writes its samples to PROMETHEUS_MULTIPROC_DIR: a pod that has it must
    mount that path writable (its root file system is read-only), and single-process pods must not have it.
    Mutation tried: PROMETHEUS_MULTIPROC_DIR back in settle-config (every pod) -> failed for the action server."""
    config = one(docs, "ConfigMap", "settle-config")["data"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in config
    for workload in (d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "CronJob")):
        env = {e["name"]: e.get("value") for e in container(workload).get("env", [])}
        mounts = {m["mountPath"] for m in container(workload).get("volumeMounts", [])}
        if workload["metadata"]["name"] == "gateway":
            assert env["PROMETHEUS_MULTIPROC_DIR"] in mounts
        else:
            assert "PROMETHEUS_MULTIPROC_DIR" not in env, workload["metadata"]["name"]


def test_the_cronjobs_run_every_job_command_one_at_a_time(docs):
    """Mutation tried: the job-pod.yaml patch's target changed to kind Job -> no image, no Forbid: failed."""
    cronjobs = [d for d in docs if d["kind"] == "CronJob"]
    assert {tuple(container(c)["args"][:3]) for c in cronjobs} == {("python", "-m", "bot")}
    assert {container(c)["args"][3] for c in cronjobs} == set(jobs.JOBS)
    assert all(c["spec"]["concurrencyPolicy"] == "Forbid" for c in cronjobs)
    assert all(container(c)["image"].endswith("/gateway:0.1.0") for c in cronjobs)


def test_only_the_gateway_and_answer_saved_reach_rasa_and_only_rasa_reaches_the_action_server(docs):
    """answer-saved's pods reach Rasa (bot/cli/answer_saved.py: saved messages answered once Rasa is back); no other
    CronJob's pod does, and nothing else. Mutation tried: the calls-rasa label on every job's pod (job-pod.yaml) ->
    send-reminders' pod is let in: fails."""
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    # Ingress rules only: the migrate Job, its waiting init containers and the CronJobs reach PostgreSQL outside.
    assert all(p["policyTypes"] == ["Ingress"] for p in policies.values())
    deny = policies["default-deny-ingress"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    to_rasa = [p for p in policies.values()
               if p["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": "rasa"}]
    assert [[peer for rule in p["ingress"] for peer in rule["from"]] for p in to_rasa] == \
        [[{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
          {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "job", "settle.io/calls-rasa": "true"}}}]]
    let_in = [c["metadata"]["name"] for c in docs if c["kind"] == "CronJob"
              if c["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"].items()
              >= {"app.kubernetes.io/name": "job", "settle.io/calls-rasa": "true"}.items()]
    assert let_in == ["answer-saved"]
    to_actions = [p for p in policies.values()
                  if p["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": "actions"}]
    peers = [peer for p in to_actions for rule in p["ingress"] for peer in rule["from"]]
    pods = [peer["podSelector"] for peer in peers if "podSelector" in peer]
    assert pods == [{"matchLabels": {"app.kubernetes.io/name": "rasa"}}]
    assert all("podSelector" in peer or peer["namespaceSelector"]["matchLabels"] == {"settle.io/monitoring": "true"}
               for peer in peers)  # Prometheus' namespace only, to scrape /metrics


def test_every_secret_file_a_process_reads_is_in_the_generated_secret(docs):
    """No real value is committed: the Secret comes from secrets.env (ignored by git), made from the example.
    Mutation tried: `metrics_token` removed from secrets.env.example -> failed (a pod would stop at start)."""
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert secret["metadata"]["name"].startswith("settle-secrets-")  # the generator's hashed name
    files = one(docs, "ConfigMap", "settle-secret-files")["data"]
    assert {path.removeprefix("/run/secrets/") for path in files.values()} <= set(secret["data"])
    rasa = one(docs, "StatefulSet", "rasa")["spec"]["template"]["spec"]
    mounted = next(v for v in rasa["volumes"] if v["name"] == "secrets")["secret"]
    assert mounted["secretName"] == secret["metadata"]["name"]
    assert {item["key"] for item in mounted["items"]} == {"rasa_token", "tracker_store_url", "redis_url"}
    assert "secrets.env" in (K8S / OVERLAY / ".gitignore").read_text().split()


def comparable(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What two kustomize versions may write differently and Kubernetes reads alike: the generated Secret's hash
    suffix (each version hashes in its own way) and where a long base64 value is folded."""
    text = re.sub(r"settle-secrets-[a-z0-9]{10}\b", "settle-secrets-<hash>", yaml.safe_dump_all(docs))
    out = list(yaml.safe_load_all(text))
    for doc in out:
        if doc["kind"] == "Secret":
            doc["data"] = {key: "".join(value.split()) for key, value in doc["data"].items()}
    return out


def test_kustomize_v2_and_the_machines_newer_kustomize_render_the_same_objects(docs):
    """The kustomizations use only fields that both kustomize v2.0.3 (Debian's kubectl 1.20) and v5 read, so an
    operator's newer kubectl applies what the tests checked. Mutations tried: the base's CronJob patch written as
    `patches:` with a kind target, and `replicas:` in the overlay (both v3+) -> v2 refused them, every test failed."""
    project = project_kubectl()
    newer = shutil.which("kubectl")
    if newer is None or Path(newer).resolve() == Path(project).resolve():
        pytest.skip("no second kubectl on this machine to compare with")
    assert comparable(render(kubectl=newer)) == comparable(docs)


def test_every_object_names_the_application_it_is_part_of(docs):
    """Each manifest carries app.kubernetes.io/part-of itself (kustomize v2 has no label transformer that leaves
    selectors alone): `kubectl get all -l app.kubernetes.io/part-of=settle` finds them all."""
    unlabelled = [f"{d['kind']}/{d['metadata']['name']}" for d in docs
                  if d["kind"] not in ("Namespace", "Secret")
                  and d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "settle"]
    assert unlabelled == []


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    template = spec["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" else spec["template"]
    return template["spec"]


INGRESS_CONTROLLER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}}
PROMETHEUS = {"namespaceSelector": {"matchLabels": {"settle.io/monitoring": "true"}}}


def test_the_ingress_controller_reaches_only_the_gateway(docs):
    """The gateway takes connections from the ingress controller's pods and Prometheus, on its port only; no other
    policy lets the controller in. Mutation tried: the controller's peer added to actions-from-rasa-only -> failed."""
    policies = [d["spec"] for d in docs if d["kind"] == "NetworkPolicy"]
    gateway = {"matchLabels": {"app.kubernetes.io/name": "gateway"}}
    admitting_controller = [p["podSelector"] for p in policies for rule in p.get("ingress", [])
                            for peer in rule.get("from", [{}]) if peer == INGRESS_CONTROLLER or peer == {}]
    assert admitting_controller == [gateway]  # `{}` or a rule with no `from` would admit everyone
    to_gateway = [rule for p in policies if p["podSelector"] == gateway for rule in p["ingress"]]
    assert sorted((peer == INGRESS_CONTROLLER, [port["port"] for port in rule["ports"]])
                  for rule in to_gateway for peer in rule["from"]) == [(False, [8000]), (True, [8000])]
    assert [peer for rule in to_gateway for peer in rule["from"] if peer != INGRESS_CONTROLLER] == [PROMETHEUS]
    pod = container(one(docs, "Deployment", "gateway"))
    assert pod["ports"] == [{"name": "http", "containerPort": 8000}]


# Gateway paths the Ingress does not route, and why: the kubelet and Prometheus reach the pods directly; the demo
# page and the embedded demo's phone and mailbox are not for production.
NOT_PUBLIC = {"/healthz", "/readyz", "/metrics", "/"}
NOT_PUBLIC_PREFIXES = ("/phone", "/mailbox")


def route_paths(routes: list[Any], prefix: str = "") -> set[str]:
    """Every path an app serves: this FastAPI keeps an included router as one entry (original_router) until the
    first request; the test asserts that well-known paths are found, so a change there fails rather than hides."""
    paths: set[str] = set()
    for route in routes:
        if hasattr(route, "original_router"):
            paths |= route_paths(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "path"):
            paths.add(prefix + route.path)
    return paths


def routed(path: str, rules: list[dict[str, Any]]) -> bool:
    """Kubernetes' Ingress matching: Exact is the whole path; Prefix matches whole path elements (/pay matches /pay
    and /pay/x, not /payx)."""
    for rule in rules:
        if rule["pathType"] == "Exact" and path == rule["path"]:
            return True
        prefix = [part for part in rule["path"].split("/") if part]
        if rule["pathType"] == "Prefix" and [part for part in path.split("/") if part][:len(prefix)] == prefix:
            return True
    return False


def test_the_ingress_serves_every_public_gateway_path_over_tls_on_the_public_host(docs):
    """Every path the gateway serves is routed (webhooks, widget, pay links, notices, consoles), except the probes,
    /metrics and the embedded demo's pages; TLS from the Secret settle-tls for the host of PUBLIC_BASE_URL (the one
    in pay links and Twilio's signatures). Mutations tried: the /widget.js rule removed -> failed naming it; a
    catch-all `/` Prefix rule added -> failed naming /metrics."""
    from bot.config import Settings
    from bot.gateway.app import create_app

    ingress = one(docs, "Ingress", "gateway")["spec"]
    host = urlparse(one(docs, "ConfigMap", "settle-config")["data"]["PUBLIC_BASE_URL"]).hostname
    assert [rule["host"] for rule in ingress["rules"]] == [host]
    assert ingress["tls"] == [{"hosts": [host], "secretName": "settle-tls"}]
    paths = ingress["rules"][0]["http"]["paths"]
    service = one(docs, "Service", "gateway")
    assert {(p["backend"]["service"]["name"], p["backend"]["service"]["port"]["name"]) for p in paths} == \
        {("gateway", service["spec"]["ports"][0]["name"])}
    app = create_app(Settings(database_url="sqlite://", rasa_url="http://127.0.0.1:9", widget_secret="x",
                              mode="production"))
    served = route_paths(app.routes) - {"/openapi.json"}
    assert {"/webhooks/twilio/webhook", "/webhooks/stripe", "/widget.js", "/widget/ws", "/agent/login"} <= served
    wrongly = {path for path in served
               if routed(path, paths) != (path not in NOT_PUBLIC and not path.startswith(NOT_PUBLIC_PREFIXES))}
    assert wrongly == set()


def test_the_migrate_job_runs_bot_migrate_with_the_gateways_image_and_secrets(docs):
    """One Job runs the release's migration; the gateway and action server pods wait in an init container until the
    schema is their image's (`bot migrate --wait`), with that pod's image and the same configuration and secret
    files. Mutations tried: the Job's envFrom without settle-secret-files -> failed; the actions init container in
    the gateway image -> failed."""
    from bot.cli import COMMANDS, migrate

    def parsed(args: list[str]) -> Any:
        assert args[:3] == ["python", "-m", "bot"]
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers(dest="command", required=True)
        for command in COMMANDS:
            command.register(sub)
        return parser.parse_args(args[3:])

    job = one(docs, "Job", "migrate")
    gateway = one(docs, "Deployment", "gateway")
    run = container(job)
    command = parsed(run["args"])
    assert (command.handler, command.wait) == (migrate.handle, None)
    assert run["image"] == container(gateway)["image"]
    assert run["envFrom"] == container(gateway)["envFrom"]
    assert pod_spec(job)["restartPolicy"] == "Never" and job["spec"]["ttlSecondsAfterFinished"] > 0
    secrets = next(d for d in docs if d["kind"] == "Secret")["metadata"]["name"]
    for workload in (job, gateway, one(docs, "Deployment", "actions")):
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        assert volumes["secrets"]["secret"]["secretName"] == secrets
    for workload in (gateway, one(docs, "Deployment", "actions")):
        [wait] = pod_spec(workload)["initContainers"]
        command = parsed(wait["args"])
        assert command.handler == migrate.handle and command.wait >= 300
        main = container(workload)
        assert (wait["image"], wait["envFrom"]) == (main["image"], main["envFrom"])
        assert {m["mountPath"] for m in wait["volumeMounts"]} >= {"/run/secrets", "/tmp"}
        assert wait["securityContext"] == main["securityContext"]


def test_disruption_budgets_keep_a_rasa_a_gateway_and_an_action_server_serving(docs):
    """A node drain takes at most one pod of each at a time, whatever the replica count: at least one Rasa instance
    stays for the hash ring. Mutation tried: the Rasa budget's maxUnavailable 3 (all three pods) -> failed."""
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    smallest = {"rasa": one(docs, "StatefulSet", "rasa")["spec"]["replicas"],
                "actions": one(docs, "Deployment", "actions")["spec"]["replicas"],
                "gateway": one(docs, "HorizontalPodAutoscaler", "gateway")["spec"]["minReplicas"]}
    kinds = {"rasa": "StatefulSet", "actions": "Deployment", "gateway": "Deployment"}
    for name, replicas in smallest.items():
        labels = one(docs, kinds[name], name)["spec"]["template"]["metadata"]["labels"]
        [budget] = [b["spec"] for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        kept = budget["minAvailable"] if "minAvailable" in budget else replicas - budget["maxUnavailable"]
        assert isinstance(kept, int) and 1 <= kept < replicas, name  # never zero left, and a drain can proceed
