"""Use-cases between routes and models. Services know nothing of requests or templates."""
