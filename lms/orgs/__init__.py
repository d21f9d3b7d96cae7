"""Municipalities, organizations, academic years, statuses and memberships."""
