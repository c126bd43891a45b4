"""Compiled gazetteer tables, installed as the data package ``geoevents.gazetteer_tables``."""
