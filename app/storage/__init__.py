"""Infrastructure the services and jobs share: encrypted media files and outgoing mail.

No use-case lives here; these modules import flask config, security and observability only.
"""
