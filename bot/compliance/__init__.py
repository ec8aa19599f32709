"""Compliance rules from ../shared/COMPLIANCE.md, each enforced in code that names its ID."""
