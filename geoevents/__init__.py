"""geoevents: an offline conflict-event mapper.

Text in, map out: place mentions resolved through a local gazetteer, events coded from
sentences with their evidence, and maps and GeoJSON for analysts.
"""
__version__ = "0.1.0"
