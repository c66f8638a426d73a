"""Clinical rules, pure: data in, frozen results out. No Flask, no models, no database."""
