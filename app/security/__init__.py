"""Access policy, password hashing, the audit trail and HTTP security headers."""
