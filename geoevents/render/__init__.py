"""Map renderers: a self-contained HTML map (Leaflet, no network) and a static PNG."""
