"""Blueprints: one package per area, each with `bp`, routes.py and forms.py."""
