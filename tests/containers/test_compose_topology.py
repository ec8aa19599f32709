"""`make test-containers`: the production topology in containers (deploy/compose.production.yml), end to end.

Builds the images (deploy/build-images.sh; the base images from deploy/base-image.sh when missing), makes the
secrets and the self-signed certificate (deploy/secrets.sh), brings the topology up with podman-compose under a
project name of its own (so fresh volumes: a new PostgreSQL, migrated, with the demo portfolio), and waits until
every container's HEALTHCHECK passes (run by hand: podman schedules them with systemd, absent here). Then a debtor
talks to it over HTTPS through the proxy, the certificate checked against the one the script made: verifies
(demo account SET-100026), asks the balance, chooses a payment plan and agrees to it, getting its pay link.

The agreeing turn is where the Rasa container serving the conversation is SIGKILLed, at the worst moment, by the
construction of tests/integration/test_production_topology.py: Rasa's tracker writes are held back by a table
lock taken inside the PostgreSQL container, so the kill lands after the turn's actions ran (the plan exists)
and before Rasa saved the tracker. The gateway fails the turn over to the other instance. Proven from the
databases inside the PostgreSQL container: the debtor got the plan reference and the pay link once; one plan and
one pay link exist; every message the debtor sent is stored once, processed, and answered by exactly the replies
they got, none being the "having trouble" reply; Rasa's tracker store holds one user event per message. Then the
killed container is back (restarted by its restart policy) and the conversation moves back to it.
Prints the image sizes and the time to healthy; tears everything down, volumes included.

Not part of `make test` (the `containers` marker is deselected in pyproject.toml): it builds ~4 GB of images.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.config import PROJECT_ROOT
from bot.gateway.pipeline import UNAVAILABLE_REPLY
from bot.gateway.rest_channel import RASA_INSTANCE_HEADER
from tests.conftest import free_port

pytestmark = pytest.mark.containers

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.production.yml"
SECRETS = DEPLOY / "secrets"
TAG = os.environ.get("SETTLE_TAG", "latest")
# The long-running services and how long they may take to pass their HEALTHCHECK (Rasa loads TensorFlow and the
# model: about two minutes for two instances at once on 2 shared cores).
SERVICES = ("postgres", "redis", "stripe", "actions", "rasa-0", "rasa-1", "gateway-1", "gateway-2", "scheduler",
            "proxy")
HEALTHY_WITHIN = 600
ACCOUNT, DOB, SSN, BALANCE = "SET-100026", "05/20/1983", "2468", "$2,400.00"  # README "A payment plan"
# ID-2: the answers to the identity questions are stored as what they are, never their values (migration 0024,
# bot/records/identity_answers.py); tests/integration/test_production_topology.py expects the same labels.
STORED = {DOB: "[date of birth]", SSN: "[SSN last four]", ACCOUNT: "[account number]"}


def _env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(DEPLOY / "podman" / "containers.conf"),
            "BUILDAH_FORMAT": "docker"}


def podman(*args: str, check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """podman with the flags these machines need (deploy/podman.sh, deploy/podman/containers.conf)."""
    return subprocess.run(["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", *args], env=_env(),
                          capture_output=True, text=True, check=check, timeout=timeout, **kwargs)


class Topology:
    def __init__(self, project: str, https_port: int) -> None:
        self.project = project
        self.base_url = f"https://127.0.0.1:{https_port}"
        self.env = {**_env(), "SETTLE_TAG": TAG, "SETTLE_HTTPS_PORT": str(https_port),
                    "SETTLE_HTTP_PORT": str(free_port()), "SETTLE_PUBLIC_BASE_URL": self.base_url}

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["podman-compose", "-f", str(COMPOSE_FILE), "-p", self.project, *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, cwd=DEPLOY)

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def healthy(self, service: str) -> bool:
        return podman("healthcheck", "run", self.container(service), check=False).returncode == 0

    def state(self, service: str) -> dict:
        return json.loads(podman("inspect", self.container(service)).stdout)[0]["State"]

    def sql(self, database: str, query: str):
        """One JSON value from PostgreSQL, as its superuser over the container's local socket."""
        out = podman("exec", self.container("postgres"), "psql", "-U", "postgres", "-d", database, "-Atq",
                     "-c", f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({query}) t").stdout
        return json.loads(out)

    def logs(self, service: str) -> str:
        result = podman("logs", "--tail", "60", self.container(service), check=False)
        return result.stdout + "\n" + result.stderr


@pytest.fixture(scope="module")
def topology():
    build = subprocess.run(["bash", str(DEPLOY / "build-images.sh"), TAG], cwd=PROJECT_ROOT, env=_env(),
                           capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, build.stdout + build.stderr
    print("\n" + "\n".join(line for line in (build.stderr + build.stdout).splitlines()
                           if line.startswith("build-images:") or line.startswith("localhost/settle/")))
    secrets_made = subprocess.run(["bash", str(DEPLOY / "secrets.sh")], capture_output=True, text=True)
    assert secrets_made.returncode == 0, secrets_made.stderr

    topology = Topology(f"settle-test-{secrets.token_hex(3)}", free_port())
    started = time.monotonic()
    try:
        up = topology.compose("up", "-d")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        waiting = set(SERVICES)
        while waiting and time.monotonic() - started < HEALTHY_WITHIN:
            waiting = {service for service in waiting if not topology.healthy(service)}
            time.sleep(2)
        assert not waiting, {service: topology.logs(service)[-1500:] for service in waiting}
        init = topology.state("init")
        assert (init["Status"], init["ExitCode"]) == ("exited", 0), topology.logs("init")
        print(f"containers: all {len(SERVICES)} services healthy {time.monotonic() - started:.0f} s after "
              f"`podman-compose up -d`; init: {' '.join(topology.logs('init').split())}")
        yield topology
    finally:
        down = topology.compose("down", "-v", "-t", "5")
        # podman-compose 1.0.3's `down` leaves the project's network behind: without this, one more per run.
        network = podman("network", "rm", "--force", f"{topology.project}_default", check=False)
        print(f"containers: torn down (podman-compose down -v: exit {down.returncode}; "
              f"network rm: exit {network.returncode})")


class Debtor:
    def __init__(self, topology: Topology) -> None:
        token = (SECRETS / "rest_api_token").read_text().strip()
        # The proxy's certificate is checked: the self-signed one deploy/tls.sh made (its SAN has 127.0.0.1).
        self.client = httpx.Client(base_url=topology.base_url, timeout=120,
                                   verify=ssl.create_default_context(cafile=str(SECRETS / "tls_cert")),
                                   headers={"Authorization": f"Bearer {token}"})
        self.sender = f"ctr-{''.join(secrets.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(10))}"
        self.turns: list[tuple[str, list[str], int]] = []  # (text, replies, answering Rasa instance)

    def say(self, text: str) -> list[str]:
        response = self.client.post("/webhooks/rest/webhook", json={"sender": self.sender, "message": text})
        assert response.status_code == 200, response.text
        replies = [r.get("text", "") for r in response.json()]
        self.turns.append((text, replies, int(response.headers[RASA_INSTANCE_HEADER])))
        return replies


def test_a_conversation_through_the_proxy_survives_a_rasa_container_killed_mid_turn(topology):
    debtor = Debtor(topology)
    assert "date of birth" in " ".join(debtor.say("what do I owe?"))
    debtor.say(DOB)
    debtor.say(SSN)
    assert BALANCE in " ".join(debtor.say(ACCOUNT))
    assert "16 monthly payments of $150.00" in " ".join(debtor.say("I can pay $150 a month"))
    assert "YES" in " ".join(debtor.say("1"))
    homes = {instance for _, _, instance in debtor.turns}
    assert len(homes) == 1, debtor.turns  # pinned: one instance answered every turn
    home = homes.pop()
    victim = f"rasa-{home}"
    conversation = topology.sql("settle", f"SELECT id FROM conversations WHERE external_id = '{debtor.sender}'")
    conversation_id = conversation[0]["id"]

    # "YES": the plan is made by the action server, then Rasa saves the tracker, which the lock holds back.
    hold = subprocess.Popen(
        ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "exec", "-i", topology.container("postgres"),
         "psql", "-U", "postgres", "-d", "settle_tracker", "-Atq", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
    try:
        hold.stdin.write("BEGIN;\nLOCK TABLE events IN EXCLUSIVE MODE;\nSELECT 'locked';\n")
        hold.stdin.flush()
        assert hold.stdout.readline().strip() == "locked"
        with ThreadPoolExecutor(max_workers=1) as pool:
            turn = pool.submit(debtor.say, "YES")
            deadline = time.monotonic() + 60
            while not topology.sql("settle", f"SELECT id FROM plans WHERE conversation_id = '{conversation_id}'"):
                assert time.monotonic() < deadline and not turn.done(), "the plan was never made"
                time.sleep(0.2)
            time.sleep(0.5)
            assert not turn.done(), "the turn finished without saving its tracker"
            # A crash, not a `podman kill` (which podman counts as a stop and never restarts): SIGKILL to the
            # container's Rasa process from the host, as the kernel's OOM killer would.
            victim_state = topology.state(victim)
            os.kill(victim_state["Pid"], signal.SIGKILL)
            killed_at = time.monotonic()
            time.sleep(0.5)  # the gateway sees the cut connection and retries the turn on the other instance
            hold.stdin.write("ROLLBACK;\n")
            hold.stdin.close()
            agreed = turn.result(timeout=120)
    finally:
        if hold.poll() is None:
            hold.kill()
        hold.wait()
    said = " ".join(agreed)
    assert "Your plan is set up" in said and re.search(r"PLN-[A-Z0-9]+", said), agreed
    links = re.findall(re.escape(topology.base_url) + r"/pay/[a-z0-9]+", said)
    assert len(links) == 1, agreed
    assert debtor.turns[-1][2] != home, debtor.turns  # answered by the survivor
    # The pay link opens through the proxy: a redirect to the Stripe stand-in's checkout.
    assert debtor.client.get(links[0].removeprefix(topology.base_url)).status_code in (302, 303, 307)

    # The conversation goes on while the killed instance is down or starting again.
    assert BALANCE in " ".join(debtor.say("what's my balance?"))
    # Back: the compose file's restart policy starts it again, and once its model is loaded and the gateways'
    # probe has seen it, the conversation goes home.
    deadline = time.monotonic() + HEALTHY_WITHIN
    while not topology.healthy(victim):
        assert time.monotonic() < deadline, topology.logs(victim)
        time.sleep(2)
    back_after = time.monotonic() - killed_at
    after = topology.state(victim)
    assert after["Pid"] != victim_state["Pid"], "the killed container was not restarted"
    time.sleep(3)
    assert BALANCE in " ".join(debtor.say("what's my balance?"))
    assert debtor.turns[-1][2] == home, debtor.turns

    _assert_every_message_once_and_answered(topology, debtor, conversation_id)
    plans = topology.sql("settle", f"SELECT reference FROM plans WHERE conversation_id = '{conversation_id}'")
    assert len(plans) == 1 and plans[0]["reference"] in said, plans
    assert len(topology.sql("settle", f"SELECT id FROM pay_links WHERE plan_id = "
                                      f"(SELECT id FROM plans WHERE conversation_id = '{conversation_id}')")) == 1
    print(f"containers: {len(debtor.turns)} turns over HTTPS; {victim} SIGKILLed mid-turn (plan made, tracker "
          f"unsaved); the survivor answered that turn; {victim} healthy again {back_after:.0f} s after the kill "
          f"(restarted by its restart policy); every message stored once "
          f"and answered; one plan, one pay link")


def _assert_every_message_once_and_answered(topology: Topology, debtor: Debtor, conversation_id: str) -> None:
    messages = topology.sql("settle", f"SELECT id, direction, status, text FROM messages "
                                      f"WHERE conversation_id = '{conversation_id}' ORDER BY id")
    inbound = [m for m in messages if m["direction"] == "in"]
    assert [m["text"] for m in inbound] == [STORED.get(text, text) for text, _, _ in debtor.turns]
    assert all(m["status"] == "processed" for m in inbound), inbound
    for index, message in enumerate(inbound):
        following = inbound[index + 1]["id"] if index + 1 < len(inbound) else None
        replies = [m["text"] for m in messages if m["direction"] == "out" and m["status"] == "sent"
                   and m["id"] > message["id"] and (following is None or m["id"] < following)]
        text, returned, _ = debtor.turns[index]
        assert UNAVAILABLE_REPLY not in returned, (text, returned)
        assert replies and replies == returned, (text, replies, returned)
    events = topology.sql("settle_tracker", f"SELECT data FROM events WHERE sender_id = '{conversation_id}' "
                                            f"AND type_name = 'user'")
    ids = Counter(json.loads(row["data"]).get("message_id") for row in events)
    assert ids == Counter(str(m["id"]) for m in inbound), ids


def test_secrets_are_files_not_environment_and_nothing_runs_as_root(topology):
    """No secret value in any container's environment listing or command (podman inspect): they are files under
    /run/secrets. And every service runs as a user other than root."""
    values = {path.name: path.read_text().strip() for path in SECRETS.iterdir() if path.is_file()}
    for service in SERVICES:
        config = json.loads(podman("inspect", topology.container(service)).stdout)[0]["Config"]
        listing = "\n".join(config.get("Env") or []) + " ".join(config.get("Cmd") or [])
        leaked = [name for name, value in values.items() if value and value in listing]
        assert not leaked, (service, leaked)
        assert podman("exec", topology.container(service), "id", "-u").stdout.strip() != "0", service
    assert (SECRETS / "tls_cert").read_text().startswith("-----BEGIN CERTIFICATE-----")

