"""Compliance records: the hash-chained transcript (REC-1), review flags, reviewers' work (REC-2), export,
retention and data subject requests (REC-3), and the KPI figures compliance staff read."""
