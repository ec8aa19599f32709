"""Propensity to pay: how likely an account is to pay something in the next HORIZON days, learned from Settle's own
history, and the order it gives to outreach (the reminders job) and to the agents' queue.

What it learns from. A snapshot of every account placed before `as_of` = now - horizon: the features below, as
they stood at `as_of` (nothing after it leaks in: a payment or an installment kept later is not counted), and the
label, whether a payment succeeded in the horizon after it. The model is a standardised logistic regression,
calibrated (scikit-learn's CalibratedClassifierCV, sigmoid, 3 folds) so that "0.3" means about 3 in 10 such
accounts paid. Training reports the cross-validated AUC (5 stratified folds, the calibration fitted inside each),
the Brier score and a reliability table of those out-of-fold probabilities, and the features that drive it
(permutation importance: how much the AUC drops when a feature is shuffled; the direction from the regression's
coefficients).

Fairness. FEATURES are facts of the debt and of how the debtor has dealt with it, nothing about who they are.
EXCLUDED lists what is deliberately left out and why; README "Propensity to pay" says so for operators. A new
feature is added only with a line in one of the two.

Too little history. Under MIN_ACCOUNTS accounts, or under MIN_PER_CLASS that paid or did not, `train` refuses
(NotEnoughHistory, with the counts), nothing is stored, and the orders stay as they were without a model.

How the order uses it. bot/outreach_order.py sorts by the newest stored model's probability, highest first (a
stable sort: equal scores keep the order they came in); with no model, by the segments' priority instead. The
reminders job and campaigns order their candidates so, and the agents' queue orders handoffs of the same priority
that arrived within QUEUE_BUCKET of each other so (bot/agents/queue.py): a person who waited longer is never passed
by more than that, and priority (a crisis, a legal stop) always comes first."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot import audit
from bot.db.models import (
    Account,
    AuditEvent,
    Dispute,
    Installment,
    LedgerEntry,
    Payment,
    Plan,
    PropensityModel,
    VerificationAttempt,
)

FEATURE_SET = 1  # bumped when FEATURES change: the first part of a model's version
FEATURES = (
    "days_since_placement",  # age of the receivable in Settle
    "balance_log_dollars",  # log(1 + balance in dollars) at the snapshot
    "payments_before",  # succeeded payments so far
    "paid_log_dollars",  # log(1 + dollars paid so far)
    "days_since_last_payment",  # since the last succeeded payment (since placement when none)
    "installments_kept",  # plan installments paid
    "installments_broken",  # plan installments past due and not paid
    "verified_contacts",  # times the debtor proved who they are in a conversation (ID-2)
    "disputes",  # disputes raised
    "open_dispute",  # 1 when a dispute was still open at the snapshot
)
# Left out on purpose (README "Propensity to pay"): protected attributes and their proxies.
EXCLUDED = {
    "zip": "ZIP code: a proxy for race and national origin (redlining)",
    "postal_address": "address: the same, street by street",
    "name": "first and last name: a proxy for sex, race and national origin",
    "language": "language (English or Spanish): a proxy for national origin",
    "date_of_birth": "date of birth: age is a protected attribute (ECOA)",
    "phone_area_code": "phone area code: a location proxy, like ZIP",
    "email_domain": "email domain: a proxy for employer and income source",
    "timezone_and_state": "time zone and state: location proxies",
    "creditor": "creditor: kept out so that one portfolio's history does not mark its debtors",
}
HORIZON = timedelta(days=30)
MIN_ACCOUNTS = 200
MIN_PER_CLASS = 20
CV_FOLDS = 5
RELIABILITY_BINS = 5
QUEUE_BUCKET = timedelta(minutes=5)


class NotEnoughHistory(Exception):
    """Too little history to learn from; the message says how much there is and how much is needed."""


@dataclass(frozen=True)
class Snapshot:
    account_ids: list[str]
    rows: list[list[float]]
    labels: list[int]


def _by_account(session: Session, query: Any) -> dict[str, Any]:
    return {account_id: value for account_id, value in session.execute(query).all()}


def features_as_of(session: Session, as_of: datetime, account_ids: Sequence[str] | None = None
                   ) -> dict[str, list[float]]:
    """FEATURES of each account placed by `as_of` (all, or those named), from what had happened by then."""
    named = list(account_ids) if account_ids is not None else None

    def only_named(query: Any, column: Any) -> Any:
        # Scoring a queue page or a campaign names a few accounts: every total is read for those only, never for
        # the whole portfolio (training names none).
        return query if named is None else query.where(column.in_(named))

    placed = session.execute(only_named(select(Account.id, Account.created_at, Account.balance_cents)
                                        .where(Account.created_at <= as_of), Account.id)).all()
    if not placed:
        return {}
    since = _by_account(session, only_named(select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents))
                                            .where(LedgerEntry.created_at > as_of), LedgerEntry.account_id)
                        .group_by(LedgerEntry.account_id))
    paid = {row[0]: row[1:] for row in session.execute(only_named(
        select(Payment.account_id, func.count(Payment.id), func.sum(Payment.amount_cents), func.max(Payment.created_at))
        .where(Payment.status == "succeeded", Payment.created_at <= as_of), Payment.account_id)
        .group_by(Payment.account_id)).all()}
    kept = _by_account(session, only_named(select(Plan.account_id, func.count(Installment.id))
                                           .join(Plan, Plan.id == Installment.plan_id)
                                           .where(Installment.paid_at.is_not(None), Installment.paid_at <= as_of),
                                           Plan.account_id)
                       .group_by(Plan.account_id))
    broken = _by_account(session, only_named(select(Plan.account_id, func.count(Installment.id))
                                             .join(Plan, Plan.id == Installment.plan_id)
                                             .where(Installment.due_date < as_of.date(),
                                                    Installment.status != "cancelled",
                                                    or_(Installment.paid_at.is_(None), Installment.paid_at > as_of)),
                                             Plan.account_id)
                         .group_by(Plan.account_id))
    verified = _by_account(session, only_named(
        select(VerificationAttempt.account_id, func.count(VerificationAttempt.id))
        .where(VerificationAttempt.succeeded.is_(True), VerificationAttempt.at <= as_of),
        VerificationAttempt.account_id).group_by(VerificationAttempt.account_id))
    disputes = _by_account(session, only_named(select(Dispute.account_id, func.count(Dispute.id))
                                               .where(Dispute.created_at <= as_of), Dispute.account_id)
                           .group_by(Dispute.account_id))
    open_disputes = _by_account(session, only_named(select(Dispute.account_id, func.count(Dispute.id)).where(
        Dispute.created_at <= as_of, Dispute.status != "withdrawn",
        or_(Dispute.verification_sent_at.is_(None), Dispute.verification_sent_at > as_of)), Dispute.account_id)
        .group_by(Dispute.account_id))
    found: dict[str, list[float]] = {}
    for account_id, created_at, balance_cents in placed:
        balance = balance_cents - (since.get(account_id) or 0)  # the ledger's changes since the snapshot undone
        count, paid_cents, last_paid = paid.get(account_id, (0, 0, None))
        found[account_id] = [
            (as_of - created_at).total_seconds() / 86400,
            math.log1p(max(balance, 0) / 100),
            float(count),
            math.log1p((paid_cents or 0) / 100),
            (as_of - (last_paid or created_at)).total_seconds() / 86400,
            float(kept.get(account_id, 0)),
            float(broken.get(account_id, 0)),
            float(verified.get(account_id, 0)),
            float(disputes.get(account_id, 0)),
            1.0 if open_disputes.get(account_id) else 0.0,
        ]
    return found


def snapshot(session: Session, now: datetime, horizon: timedelta = HORIZON) -> Snapshot:
    """The training set: accounts placed by now - horizon with something owed then, their features then, and
    whether a payment succeeded in the horizon after."""
    as_of = now - horizon
    features = features_as_of(session, as_of)
    payers = set(session.scalars(select(Payment.account_id).where(
        Payment.status == "succeeded", and_(Payment.created_at > as_of, Payment.created_at <= now))))
    owed = [a for a, row in features.items() if row[1] > 0]  # nothing to collect: not a question of propensity
    owed.sort()
    return Snapshot(owed, [features[a] for a in owed], [1 if a in payers else 0 for a in owed])


def _estimator() -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return CalibratedClassifierCV(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                                  method="sigmoid", cv=3)


def reliability_table(labels: Sequence[int], probabilities: Sequence[float],
                      bins: int = RELIABILITY_BINS) -> list[dict[str, float]]:
    """Accounts in equal-sized groups by predicted probability: each group's mean prediction against the share that
    actually paid. A calibrated model's two columns agree."""
    pairs = sorted(zip(probabilities, labels, strict=True))
    table = []
    for index in range(bins):
        group = pairs[index * len(pairs) // bins:(index + 1) * len(pairs) // bins]
        if group:
            table.append({"predicted": round(sum(p for p, _ in group) / len(group), 3),
                          "observed": round(sum(y for _, y in group) / len(group), 3), "accounts": len(group)})
    return table


def train(session: Session, now: datetime | None = None, *, horizon: timedelta = HORIZON,
          min_accounts: int = MIN_ACCOUNTS, min_per_class: int = MIN_PER_CLASS) -> PropensityModel:
    """Learn from the history, evaluate by cross-validation, store the model (newest is used) and return it.
    Raises NotEnoughHistory, storing nothing, when there is too little to learn from."""
    import joblib
    import numpy as np
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    now = now or datetime.now(timezone.utc)
    data = snapshot(session, now, horizon)
    positives = sum(data.labels)
    negatives = len(data.labels) - positives
    if len(data.labels) < min_accounts or min(positives, negatives) < min_per_class:
        raise NotEnoughHistory(
            f"Not enough history to learn from: {len(data.labels)} accounts placed at least {horizon.days} days ago "
            f"with a balance then (at least {min_accounts} needed), {positives} of them paid in the "
            f"{horizon.days} days after and {negatives} did not (at least {min_per_class} of each needed). No model "
            "was stored: outreach and the agents' queue are ordered by segment priority (segments.yml).")
    features, labels = np.array(data.rows), np.array(data.labels)
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=0)
    out_of_fold = cross_val_predict(_estimator(), features, labels, cv=folds, method="predict_proba")[:, 1]
    estimator = _estimator().fit(features, labels)
    importance = permutation_importance(estimator, features, labels, scoring="roc_auc", n_repeats=5,
                                        random_state=0)
    coefficients = np.mean([c.estimator[-1].coef_[0] for c in estimator.calibrated_classifiers_], axis=0)
    drivers = sorted(({"feature": name, "importance": round(float(importance.importances_mean[i]), 4),
                       "direction": "more likely to pay" if coefficients[i] > 0 else "less likely to pay"}
                      for i, name in enumerate(FEATURES)), key=lambda d: -d["importance"])
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    count = session.scalar(select(func.count(PropensityModel.id))) or 0
    model = PropensityModel(
        version=f"{FEATURE_SET}.{count + 1}", trained_at=now, history_as_of=now - horizon,
        horizon_days=horizon.days, accounts=len(labels), positives=positives,
        cv_auc=round(float(roc_auc_score(labels, out_of_fold)), 4),
        brier=round(float(brier_score_loss(labels, out_of_fold)), 4),
        report={"features": list(FEATURES), "excluded": sorted(EXCLUDED), "drivers": drivers,
                "reliability": reliability_table(list(labels), [float(p) for p in out_of_fold]),
                "base_rate": round(positives / len(labels), 4)},
        estimator=buffer.getvalue())
    session.add(model)
    session.flush()
    audit.record(session, "propensity_model_trained", detail={"version": model.version, "cv_auc": model.cv_auc,
                                                              "accounts": model.accounts}, at=now)
    return model


REFUSED_KIND = "propensity_training_refused"


def record_refusal(session: Session, refusal: NotEnoughHistory, at: datetime | None = None) -> None:
    """Note that training was refused for too little history (train's own transaction rolled back), so that /ops can
    say why outreach is ordered without a model."""
    audit.record(session, REFUSED_KIND, detail={"why": str(refusal)}, at=at)


def last_refusal(session: Session) -> AuditEvent | None:
    """The latest refused training, if none succeeded after it."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == REFUSED_KIND)
                           .order_by(AuditEvent.id.desc()).limit(1))
    return event if event is not None and current(session) is None else None


def current(session: Session) -> PropensityModel | None:
    """The newest stored model, or None when none was ever trained."""
    return session.scalar(select(PropensityModel).order_by(PropensityModel.id.desc()).limit(1))


@lru_cache(maxsize=4)
def _loaded(model_id: int, blob: bytes) -> Any:
    import joblib

    return joblib.load(io.BytesIO(blob))


def scores(session: Session, account_ids: Sequence[str], now: datetime | None = None) -> dict[str, float]:
    """Each account's probability of paying within the model's horizon, from its history up to now; {} when no model
    is stored (callers then keep their own order)."""
    model = current(session)
    ids = sorted(set(account_ids))
    if model is None or not ids:
        return {}
    now = now or datetime.now(timezone.utc)
    features = features_as_of(session, now, ids)
    if not features:
        return {}
    estimator = _loaded(model.id, model.estimator)
    names = list(features)
    probabilities = estimator.predict_proba([features[n] for n in names])[:, 1]
    return {name: float(p) for name, p in zip(names, probabilities, strict=True)}


def queue_bucket(created_at: datetime) -> int:
    """Handoffs that arrived within the same QUEUE_BUCKET wait as equals: propensity orders them."""
    return int(created_at.timestamp() // QUEUE_BUCKET.total_seconds())
