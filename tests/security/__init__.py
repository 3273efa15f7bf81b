"""Security tests: authentication, the audit trail, privacy, XSS, the security probe, the API fuzz."""
