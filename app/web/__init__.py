"""Web support shared by every blueprint: htmx rendering, the error contract, navigation,
URL converters and bearer-token authentication. None of these is a blueprint."""
