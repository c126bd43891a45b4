/* geoevents map runtime (part of geoevents, MIT; not vendored).
 *
 * Loaded inline after Leaflet 1.9.4. Builds every data layer in JavaScript from GeoJSON that
 * the page embeds once in JSON script elements (type application/json), so that a map of 100,000
 * events costs one JSON.parse and no per-feature Python work. All article-derived text goes
 * through esc() before it reaches innerHTML; only http(s) URLs become links.
 *
 * Uses three private members of Leaflet's canvas renderer (_drawing, _ctx, _fillStroke) to draw
 * event glyphs on the shared canvas; they are stable within the pinned Leaflet 1.9.4.
 */
(function (root) {
  'use strict';

  var ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;'};

  /** HTML-escape any value (null/undefined -> ""). */
  function esc(v) {
    if (v === null || v === undefined) { return ''; }
    return String(v).replace(/[&<>"'`]/g, function (c) { return ESC[c]; });
  }

  /** The URL when it is a plain http(s) URL, else null (no javascript:, data:, ...). */
  function safeUrl(u) {
    if (typeof u !== 'string') { return null; }
    var s = u.trim();
    return /^https?:\/\/[^\s<>"'`]+$/i.test(s) ? s : null;
  }

  /** A compact event collection (map.py's compact_events: keys, a string table and one row
   * per feature) expanded into a FeatureCollection; anything else is returned as is. */
  function expand(d) {
    if (!d || d.format !== 'geoevents-compact-1') { return d; }
    var keys = d.keys, strs = d.strings, rows = d.rows, n = rows.length, feats = new Array(n), i, j;
    function dec(v) {
      if (typeof v === 'number') { return strs[v]; }
      if (Array.isArray(v)) { return v.map(function (k) { return strs[k]; }); }
      return v.v;
    }
    for (i = 0; i < n; i++) {
      var r = rows[i], g = r[0], p = {};
      for (j = 1; j < r.length; j++) {
        if (r[j] !== null) { p[keys[j - 1]] = dec(r[j]); }
      }
      feats[i] = {type: 'Feature', properties: p,
                  geometry: Array.isArray(g) ? {type: 'Point', coordinates: g} : g};
    }
    return {type: 'FeatureCollection', features: feats};
  }

  /** Parse the text of the JSON script element with this id (once per id: layers
   * sharing a block share the parsed object, which Leaflet does not modify); null when absent. */
  var parsed = {};
  function readJSON(id) {
    if (!Object.prototype.hasOwnProperty.call(parsed, id)) {
      var el = document.getElementById(id);
      parsed[id] = el ? expand(JSON.parse(el.textContent)) : null;
    }
    return parsed[id];
  }

  function list(v) {
    if (Array.isArray(v)) { return v; }
    return (v === null || v === undefined || v === '') ? [] : [v];
  }

  function geomType(f) {
    return (f && f.geometry && f.geometry.type) || null;
  }

  /* A CircleMarker drawn as a polygon glyph on a canvas renderer (hit-testing stays the
   * circle's). Glyph vertices are unit coordinates within the unit circle, y down. */
  var GlyphMarker = L.CircleMarker.extend({
    options: {glyph: 'circle', glyphs: null},
    _updatePath: function () {
      var r = this._renderer, g = this.options.glyph, pts = this.options.glyphs && this.options.glyphs[g];
      if (!(r instanceof L.Canvas) || g === 'circle' || (g !== 'ring' && !pts)) {
        r._updateCircle(this);
        return;
      }
      if (!r._drawing || this._empty()) { return; }
      var ctx = r._ctx, p = this._point, rad = Math.max(this._radius, 1), i;
      ctx.beginPath();
      if (g === 'ring') {
        ctx.arc(p.x, p.y, rad, 0, Math.PI * 2, false);
        ctx.moveTo(p.x + rad * 0.5, p.y);
        ctx.arc(p.x, p.y, rad * 0.5, 0, Math.PI * 2, true);
      } else {
        ctx.moveTo(p.x + pts[0][0] * rad, p.y + pts[0][1] * rad);
        for (i = 1; i < pts.length; i++) {
          ctx.lineTo(p.x + pts[i][0] * rad, p.y + pts[i][1] * rad);
        }
        ctx.closePath();
      }
      r._fillStroke(ctx, this);
    }
  });

  function GeoEvents(map, cfg) {
    this.map = map;
    this.cfg = cfg;
    this.layers = {};
    map.createPane('geoevents-boundaries');
    map.getPane('geoevents-boundaries').style.zIndex = 350;
    this.boundaryRenderer = L.svg({pane: 'geoevents-boundaries', padding: 0.5});
    // One canvas for every interactive layer: a canvas in a higher pane would swallow clicks.
    this.canvas = L.canvas({padding: 0.5, tolerance: 4});
  }

  GeoEvents.prototype.actor = function (id) {
    return this.cfg.actors[id] || null;
  };

  GeoEvents.prototype.actorColour = function (id) {
    var a = this.actor(id);
    return a ? a.colour : this.cfg.unknown.colour;
  };

  /** Colour of an event: its first actor; else the side it went to / came from. */
  GeoEvents.prototype.eventColour = function (p) {
    var ids = list(p.actor);
    if (!ids.length) { ids = list(p.to_actor); }
    if (!ids.length) { ids = list(p.from_actor); }
    return ids.length ? this.actorColour(ids[0]) : this.cfg.unknown.colour;
  };

  GeoEvents.prototype.typeInfo = function (t) {
    return this.cfg.types[t] || this.cfg.types.other;
  };

  GeoEvents.prototype.actorsHtml = function (ids) {
    var self = this;
    ids = list(ids);
    if (!ids.length) { return '<i>unknown</i>'; }
    return ids.map(function (id) {
      var a = self.actor(id);
      return '<span class="ge-sw" style="background:' + esc(self.actorColour(id)) + '"></span>' +
        esc(a ? a.label : id);
    }).join(', ');
  };

  GeoEvents.prototype.eventPopup = function (p) {
    var t = this.typeInfo(p.type), rows = [], h;
    var place = esc(p.place || 'unknown place') + (p.admin1 ? ', ' + esc(p.admin1) : '');
    h = '<div class="ge-popup"><div class="ge-pop-title">' + place + '</div>';
    h += '<div class="ge-pop-type">' + esc(t.label) + (t === this.cfg.types.other && p.type && p.type !== 'other' ? ' (' + esc(p.type) + ')' : '') + '</div>';
    if (p.type === 'control_change') {
      rows.push(['Control', this.actorsHtml(p.from_actor) + ' &rarr; ' + this.actorsHtml(p.to_actor)]);
      if (list(p.actor).length) { rows.push(['Actor', this.actorsHtml(p.actor)]); }
    } else {
      rows.push(['Actors', this.actorsHtml(p.actor) + (list(p.target).length ? ' &rarr; ' + this.actorsHtml(p.target) : '')]);
    }
    rows.push(['Date', p.date ? esc(p.date) + (p.date_precision ? ' <span class="ge-muted">(' + esc(p.date_precision) + ')</span>' : '') : '<i>undated</i>']);
    var st = esc(p.status || 'reported');
    if (list(p.attributed_to).length) { st += ' &mdash; according to ' + list(p.attributed_to).map(esc).join(', '); }
    rows.push(['Status', st]);
    if (typeof p.fatalities === 'number') { rows.push(['Fatalities', esc(p.fatalities)]); }
    var url = safeUrl(p.url), src = esc(p.source || (url ? url : ''));
    if (url) {
      src = '<a href="' + esc(url) + '" target="_blank" rel="noopener noreferrer">' + (src || 'source') + '</a>';
    }
    if (p.published) { src += (src ? ' ' : '') + '<span class="ge-muted">' + esc(p.published) + '</span>'; }
    if (src) { rows.push(['Source', src]); }
    var others = list(p.sources).filter(function (s) { return s && s.doc !== p.doc; });
    if (others.length || p.corroboration > 1) {
      rows.push(['Reports', esc(p.reports || list(p.sources).length || 1) + ' from ' + esc(p.corroboration || 1) + ' outlet' + (p.corroboration > 1 ? 's' : '') +
        (p.status === 'contested' ? ' <b>(contested)</b>' : '')]);
    }
    h += '<table class="ge-pop-table">' + rows.map(function (r) {
      return '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>';
    }).join('') + '</table>';
    if (p.sentence) { h += '<blockquote class="ge-pop-quote">' + esc(p.sentence) + '</blockquote>'; }
    if (others.length) {
      h += '<ul class="ge-pop-sources">' + others.slice(0, 5).map(function (s) {
        var u = safeUrl(s.url), name = esc(s.source || u || s.doc || 'report');
        if (u) { name = '<a href="' + esc(u) + '" target="_blank" rel="noopener noreferrer">' + name + '</a>'; }
        return '<li>' + name + ' <span class="ge-muted">' + esc(s.published || '') + ' ' + esc(s.status || '') +
          '</span><br>' + esc(s.sentence) + '</li>';
      }).join('') + ((p.reports || others.length + 1) > 6 ? '<li class="ge-muted">and ' + esc((p.reports || others.length + 1) - 6) + ' more in events.geojson</li>' : '') + '</ul>';
    }
    h += '<div class="ge-muted ge-pop-id">' + esc(p.event_id) + '</div></div>';
    return h;
  };

  GeoEvents.prototype._popup = function (layer, fn) {
    var self = this;
    // One popup for the whole group: children's clicks bubble to it.
    layer.bindPopup(function (child) {
      return fn.call(self, (child && child.feature && child.feature.properties) || {});
    }, {maxWidth: 380, autoPanPadding: [20, 20]});
    return layer;
  };

  /** The glyph marker of a point event (feature f) at latlng. */
  GeoEvents.prototype.glyphMarker = function (f, latlng) {
    var p = f.properties || {}, t = this.typeInfo(p.type);
    return new GlyphMarker(latlng, {
      renderer: this.canvas, radius: t.radius, glyph: t.glyph, glyphs: this.cfg.glyphs,
      color: this.cfg.stroke, weight: 1, opacity: 0.95,
      fillColor: this.eventColour(p), fillOpacity: 0.9
    });
  };

  /** Point events as glyph markers on the shared canvas; above cfg.cluster.threshold points,
   * a ClusteredEvents layer (grid clusters below cfg.cluster.maxZoom). */
  GeoEvents.prototype.eventsLayer = function (data) {
    var self = this, cl = this.cfg.cluster, layer;
    this.eventData = this.eventData || {};
    this.eventData.events = data;
    if (cl && cl.threshold) {
      var pts = ((data && data.features) || []).filter(function (f) {
        var g = geomType(f); return g === 'Point' || g === 'MultiPoint';
      });
      if (pts.length > cl.threshold) {
        layer = new ClusteredEvents(this, pts, cl.maxZoom);
        this.layers.events = layer;
        return layer;
      }
    }
    layer = L.geoJSON(data, {
      filter: function (f) { var g = geomType(f); return g === 'Point' || g === 'MultiPoint'; },
      pointToLayer: function (f, latlng) { return self.glyphMarker(f, latlng); }
    });
    this.layers.events = layer;
    return this._popup(layer, this.eventPopup);
  };

  function countLabel(n) {
    if (n >= 10000) { return Math.round(n / 1000) + 'k'; }
    if (n >= 1000) { return (Math.round(n / 100) / 10) + 'k'; }
    return String(n);
  }

  /* A cluster: a circle on the shared canvas with its count written inside. */
  var ClusterMarker = L.CircleMarker.extend({
    options: {count: 0},
    _updatePath: function () {
      var r = this._renderer;
      r._updateCircle(this);
      if (!(r instanceof L.Canvas) || !r._drawing || this._empty()) { return; }
      var ctx = r._ctx, p = this._point;
      ctx.font = 'bold 11px sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillStyle = '#ffffff';
      ctx.fillText(countLabel(this.options.count), p.x, p.y);
    }
  });

  var CELL = 64;  // px: the side of a cluster cell

  /* Many point events. Below maxZoom they are binned into a grid of CELL px squares in world
   * pixel coordinates (so cells stay put while panning; computed once per zoom): a cell of
   * several events is one ClusterMarker (radius by count, count as tooltip, a click zooms in),
   * a cell of one event its glyph. From maxZoom on every event is its glyph. Only what lies in
   * the view (padded by a quarter) is on the canvas; glyph markers are created on first need and reused,
   * so an open popup survives a pan. The glyphs share one popup like the plain layer. */
  var ClusteredEvents = L.Layer.extend({
    initialize: function (ge, feats, maxZoom) {
      var n = feats.length, i, c, crs = L.CRS.EPSG3857, pt;
      this.ge = ge;
      this.feats = feats;
      this.maxZoom = maxZoom;
      this.lat = new Float64Array(n);
      this.lng = new Float64Array(n);
      this.x0 = new Float64Array(n);   // world pixels at zoom 0
      this.y0 = new Float64Array(n);
      for (i = 0; i < n; i++) {
        c = feats[i].geometry.coordinates;
        if (feats[i].geometry.type === 'MultiPoint') { c = c[0]; }
        this.lat[i] = +c[1];
        this.lng[i] = +c[0];
        pt = crs.latLngToPoint(L.latLng(this.lat[i], this.lng[i]), 0);
        this.x0[i] = pt.x;
        this.y0[i] = pt.y;
      }
      this.markers = new Array(n);
      this.clusterMarkers = {};
      this.glyphs = ge._popup(L.featureGroup(), ge.eventPopup);
      this.clusters = L.featureGroup();
      this.setFilter(null);
    },

    onAdd: function (map) {
      map.on('zoomend moveend', this._update, this);
      map.addLayer(this.glyphs);
      map.addLayer(this.clusters);
      this._shownG = {};
      this._shownC = {};
      this._update();
    },

    onRemove: function (map) {
      map.off('zoomend moveend', this._update, this);
      map.removeLayer(this.glyphs);
      map.removeLayer(this.clusters);
      this.glyphs.clearLayers();
      this.clusters.clearLayers();
    },

    /** Keep only the events for which keep(feature) is true (null: all). */
    setFilter: function (keep) {
      var act = [], i;
      for (i = 0; i < this.feats.length; i++) {
        if (!keep || keep(this.feats[i])) { act.push(i); }
      }
      this.active = act;
      this._cellCache = {};
      this.clusterMarkers = {};
      if (this._map) { this._update(); }
      return this;
    },

    count: function () { return this.active.length; },

    getBounds: function () {
      var b = L.latLngBounds([]), a = this.active, k;
      for (k = 0; k < a.length; k++) { b.extend([this.lat[a[k]], this.lng[a[k]]]); }
      return b;
    },

    /** The layers on the map now: glyphs, then clusters. */
    getLayers: function () {
      return this.glyphs.getLayers().concat(this.clusters.getLayers());
    },

    eachLayer: function (fn, ctx) {
      this.glyphs.eachLayer(fn, ctx);
      return this;
    },

    marker: function (i) {
      var m = this.markers[i];
      if (!m) {
        m = this.markers[i] = this.ge.glyphMarker(this.feats[i], L.latLng(this.lat[i], this.lng[i]));
        m.feature = this.feats[i];
      }
      return m;
    },

    /** The clusters of the active events at zoom z: {key, n, lat, lng, first, s, w, n2, e}. */
    cells: function (z) {
      if (this._cellCache[z]) { return this._cellCache[z]; }
      var s = Math.pow(2, z) / CELL, cells = {}, out = [], a = this.active, k, i, key, c, la, ln;
      for (k = 0; k < a.length; k++) {
        i = a[k];
        key = Math.floor(this.x0[i] * s) + ':' + Math.floor(this.y0[i] * s);
        la = this.lat[i];
        ln = this.lng[i];
        c = cells[key];
        if (!c) {
          c = cells[key] = {key: z + ':' + key, n: 0, lat: 0, lng: 0, first: i,
                            s: la, w: ln, n2: la, e: ln};
          out.push(c);
        }
        c.n++;
        c.lat += la;
        c.lng += ln;
        if (la < c.s) { c.s = la; }
        if (la > c.n2) { c.n2 = la; }
        if (ln < c.w) { c.w = ln; }
        if (ln > c.e) { c.e = ln; }
      }
      for (k = 0; k < out.length; k++) {
        out[k].lat /= out[k].n;
        out[k].lng /= out[k].n;
      }
      this._cellCache[z] = out;
      return out;
    },

    clusterMarker: function (c) {
      var m = this.clusterMarkers[c.key], map = this._map, self = this;
      if (m) { return m; }
      m = this.clusterMarkers[c.key] = new ClusterMarker([c.lat, c.lng], {
        renderer: this.ge.canvas, radius: Math.round(10 + 5 * Math.log(c.n) / Math.LN10),
        count: c.n, color: '#ffffff', weight: 2, opacity: 0.9, fillColor: '#2b5c8a', fillOpacity: 0.8
      });
      m.cluster = c;
      m.bindTooltip(c.n + ' events', {direction: 'top'});
      m.on('click', function () {
        var b = L.latLngBounds([c.s, c.w], [c.n2, c.e]), z = map.getZoom();
        var to = Math.min(Math.max(map.getBoundsZoom(b), z + 1), self.maxZoom);
        map.setView(b.getCenter(), to);
      });
      return m;
    },

    _update: function () {
      var map = this._map;
      if (!map) { return; }
      var z = map.getZoom(), b = map.getBounds().pad(0.25), g = {}, c = {}, k, i, cs, m;
      var s = b.getSouth(), n = b.getNorth(), w = b.getWest(), e = b.getEast();
      if (z >= this.maxZoom) {
        for (k = 0; k < this.active.length; k++) {
          i = this.active[k];
          if (this.lat[i] >= s && this.lat[i] <= n && this.lng[i] >= w && this.lng[i] <= e) { g[i] = true; }
        }
      } else {
        cs = this.cells(z);
        for (k = 0; k < cs.length; k++) {
          if (cs[k].lat >= s && cs[k].lat <= n && cs[k].lng >= w && cs[k].lng <= e) {
            if (cs[k].n === 1) { g[cs[k].first] = true; } else { c[cs[k].key] = cs[k]; }
          }
        }
      }
      for (k in this._shownG) {
        if (!g[k]) { this.glyphs.removeLayer(this._shownG[k]); delete this._shownG[k]; }
      }
      for (k in this._shownC) {
        if (!c[k]) { this.clusters.removeLayer(this._shownC[k]); delete this._shownC[k]; }
      }
      for (k in g) {
        if (!this._shownG[k]) { m = this._shownG[k] = this.marker(+k); this.glyphs.addLayer(m); }
      }
      for (k in c) {
        if (!this._shownC[k]) { m = this._shownC[k] = this.clusterMarker(c[k]); this.clusters.addLayer(m); }
      }
    }
  });

  /** LineString events (fighting along a road) as coloured lines. */
  GeoEvents.prototype.roadsLayer = function (data) {
    var self = this;
    var layer = L.geoJSON(data, {
      renderer: this.canvas,
      filter: function (f) { var g = geomType(f); return g === 'LineString' || g === 'MultiLineString'; },
      style: function (f) {
        var p = f.properties || {}, t = self.typeInfo(p.type);
        return {renderer: self.canvas, color: self.eventColour(p), weight: 4, opacity: 0.85,
                dashArray: t.dash || null, lineCap: 'round'};
      }
    });
    this.layers.roads = layer;
    this.eventData = this.eventData || {};
    this.eventData.roads = data;
    return this._popup(layer, this.eventPopup);
  };

  var DAY = 86400000;

  /** 'YYYY-MM-DD' -> epoch ms (UTC midnight), or null. */
  function dayMs(s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(typeof s === 'string' ? s : '');
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : null;
  }

  function isoDay(t) {
    return new Date(t).toISOString().slice(0, 10);
  }

  /** Fill colour and ring of a control interval: held = controller's colour with a white
   * ring; contested = faded fill of the first claimant, dashed ring of the second. */
  GeoEvents.prototype.controlStyle = function (p) {
    var cl = list(p.claimants), contested = p.status === 'contested' || p.controller === 'contested';
    if (contested) {
      var a = cl[0] || null, b = cl[1] || cl[0] || null;
      return {renderer: this.canvas, radius: 7, weight: 3, opacity: 1, dashArray: '3 3',
              color: b ? this.actorColour(b) : '#555555',
              fillColor: a ? this.actorColour(a) : this.cfg.unknown.colour, fillOpacity: 0.55};
    }
    var c = p.controller || cl[0];
    return {renderer: this.canvas, radius: 6, weight: 1.5, opacity: 1, dashArray: null,
            color: '#ffffff', fillColor: c ? this.actorColour(c) : this.cfg.unknown.colour,
            fillOpacity: 0.9};
  };

  GeoEvents.prototype.controllerHtml = function (iv) {
    var cl = list(iv.claimants);
    if (iv.controller === 'contested' || iv.status === 'contested') {
      return '<b>contested</b>' + (cl.length ? ' (' + this.actorsHtml(cl) + ')' : '');
    }
    return this.actorsHtml(iv.controller || cl);
  };

  GeoEvents.prototype.sourceHtml = function (s) {
    if (!s || typeof s !== 'object') { return ''; }
    if (s.source === 'baseline' && !s.sentence) { return '<div class="ge-src ge-muted">baseline</div>'; }
    var url = safeUrl(s.url), out = esc(s.source || (url || 'source'));
    if (url) { out = '<a href="' + esc(url) + '" target="_blank" rel="noopener noreferrer">' + out + '</a>'; }
    var meta = [s.status, s.date_source === 'published' ? 'dated by publication' : null]
      .filter(Boolean).map(esc).join(', ');
    return '<div class="ge-src">' + out + (meta ? ' <span class="ge-muted">(' + meta + ')</span>' : '') +
      (s.sentence ? '<blockquote class="ge-pop-quote">' + esc(s.sentence) + '</blockquote>' : '') + '</div>';
  };

  /** Popup of a control interval: the place, who holds it at the slider date, its history. */
  GeoEvents.prototype.controlPopup = function (p) {
    var self = this, place = (this.controlPlaces && this.controlPlaces[p.pi]) || {};
    var pp = place.properties || {}, hist = list(pp.history);
    var h = '<div class="ge-popup ge-control-popup"><div class="ge-pop-title">' +
      esc(p.place || pp.place || pp.name || pp.place_id || 'place') +
      (p.admin1 ? ', ' + esc(p.admin1) : '') + '</div>';
    var when = this.date !== undefined && this.date !== null ? isoDay(this.date) : null;
    h += '<table class="ge-pop-table"><tr><th>Controller</th><td>' + this.controllerHtml(p) +
      (when ? ' <span class="ge-muted">as of ' + esc(when) + '</span>' : '') + '</td></tr>' +
      '<tr><th>Status</th><td>' + esc(p.status || 'unknown') + '</td></tr></table>';
    if (hist.length) {
      h += '<div class="ge-hist-title">History</div><ol class="ge-hist">';
      hist.forEach(function (iv, i) {
        if (!iv || typeof iv !== 'object') { return; }
        h += '<li' + (i === p.hi ? ' class="ge-hist-now"' : '') + '><div>' + self.controllerHtml(iv) +
          ' <span class="ge-muted">' + esc(iv.start || '…') + ' &ndash; ' + esc(iv.end || 'now') +
          (iv.status ? ', ' + esc(iv.status) : '') + '</span></div>' +
          list(iv.sources).map(function (s) { return self.sourceHtml(s); }).join('') + '</li>';
      });
      h += '</ol>';
    }
    return h + '</div>';
  };

  /** Control of places: one feature per place and control interval (start <= t < end, epoch
   * ms); the time slider shows the intervals covering its date. placesId: the JSON block of
   * the places themselves (with their history, for the popups). */
  GeoEvents.prototype.controlLayer = function (data, placesId) {
    var self = this;
    this.controlData = data;
    this.controlPlaces = (placesId && readJSON(placesId) || {}).features || [];
    var layer = L.geoJSON(null, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, self.controlStyle(f.properties || {}));
      }
    });
    this.layers.control = layer;
    this._popup(layer, this.controlPopup);
    this.setDate(null);
    return layer;
  };

  /** Show control (and, when asked, events) as of the day t (epoch ms; null = latest). */
  GeoEvents.prototype.setDate = function (t) {
    var d = this.controlData, layer = this.layers.control;
    if (t === null || t === undefined) { t = d && dayMs(d.last); }
    this.date = (t === null || t === undefined) ? null : t;
    if (layer && d) {
      var feats = this.date === null ? d.features : d.features.filter(function (f) {
        var p = f.properties || {};
        return p.start <= t && t < p.end;
      });
      layer.clearLayers();
      // Re-added last, the (smaller) place dots draw over event glyphs on the shared canvas:
      // a click on a dot opens the place's history, around it the event.
      layer.addData({type: 'FeatureCollection', features: feats});
    }
    this.filterEvents();
    if (this.sliderLabel && this.date !== null) { this.sliderLabel.textContent = isoDay(this.date); }
    return this.date === null ? null : isoDay(this.date);
  };

  /** Events dated after the slider date are hidden while the checkbox is ticked (undated
   * events stay). */
  GeoEvents.prototype.filterEvents = function () {
    var self = this, on = !!this.eventsByDate && this.date !== null;
    ['events', 'roads'].forEach(function (k) {
      var layer = self.layers[k], data = self.eventData && self.eventData[k];
      if (!layer || !data) { return; }
      if (layer instanceof ClusteredEvents) {
        if (on || layer._geFiltered) {
          layer._geFiltered = on;
          layer.setFilter(on ? function (f) {
            var t = dayMs(f.properties && f.properties.date);
            return t === null || t <= self.date;
          } : null);
        }
        return;
      }
      if (!on && !layer._geFiltered) { return; }
      layer._geFiltered = on;
      layer.clearLayers();
      layer.addData(on ? {type: 'FeatureCollection', features: data.features.filter(function (f) {
        var t = dayMs(f.properties && f.properties.date);
        return t === null || t <= self.date;
      })} : data);
    });
  };

  /** The time slider control: a range input over the days from the first to the last date
   * in the control data. Opens at #date=YYYY-MM-DD, else asOf, else the last day. */
  GeoEvents.prototype.timeSlider = function (asOf) {
    var self = this, d = this.controlData;
    var t0 = d && dayMs(d.first), t1 = d && dayMs(d.last);
    if (t0 === null || t1 === null || t0 === undefined) { return null; }
    var days = Math.round((t1 - t0) / DAY);
    function fromHash() {
      var m = /(?:^#|&)date=(\d{4}-\d{2}-\d{2})/.exec(root.location.hash || '');
      return m ? dayMs(m[1]) : null;
    }
    var start = fromHash();
    if (start === null) { start = dayMs(asOf); }
    if (start === null) { start = t1; }
    var ctl = L.control({position: 'bottomleft'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'ge-slider');
      var top = L.DomUtil.create('div', 'ge-slider-top', div);
      var title = L.DomUtil.create('span', 'ge-slider-title', top);
      title.textContent = 'Control as of ';
      self.sliderLabel = L.DomUtil.create('b', 'ge-slider-date', top);
      var input = self.slider = L.DomUtil.create('input', 'ge-slider-input', div);
      input.type = 'range';
      input.min = '0';
      input.max = String(days);
      input.step = '1';
      input.setAttribute('aria-label', 'Date of the control map');
      var ends = L.DomUtil.create('div', 'ge-slider-ends ge-muted', div);
      ends.textContent = isoDay(t0) + ' \u2013 ' + isoDay(t1);
      var lab = L.DomUtil.create('label', 'ge-slider-events', div);
      var box = L.DomUtil.create('input', '', lab);
      box.type = 'checkbox';
      lab.appendChild(document.createTextNode(' events up to this date'));
      L.DomEvent.on(input, 'input change', function () {
        self.setDate(t0 + (+input.value) * DAY);
      });
      L.DomEvent.on(box, 'change', function () {
        self.eventsByDate = box.checked;
        self.filterEvents();
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(this.map);
    this.sliderDate = function (iso) {
      var t = dayMs(iso);
      if (t === null) { return null; }
      t = Math.min(Math.max(t, t0), t1);
      self.slider.value = String(Math.round((t - t0) / DAY));
      return self.setDate(t0 + (+self.slider.value) * DAY);
    };
    this.sliderDate(isoDay(start));
    L.DomEvent.on(root, 'hashchange', function () {
      var t = fromHash();
      if (t !== null) { self.sliderDate(isoDay(t)); }
    });
    return ctl;
  };

  function fold(s) {
    s = String(s || '').toLowerCase();
    if (s.normalize) { s = s.normalize('NFD').replace(/[\u0300-\u036f]/g, ''); }
    return s.replace(/[\u2018\u2019\u02bb\u02bc\u02be\u02bf'`\-]/g, '').replace(/\s+/g, ' ').trim();
  }

  /** The places a search can find: control places, then event places (Points; a road by
   * its first vertex), one entry per name and kind. */
  GeoEvents.prototype.searchIndex = function () {
    var out = [], seen = {};
    function add(name, admin1, latlng, kind, key) {
      if (!name || !latlng) { return; }
      var k = kind + '|' + fold(name) + '|' + fold(admin1);
      if (seen[k]) { return; }
      seen[k] = true;
      out.push({name: String(name), admin1: admin1 ? String(admin1) : '', latlng: latlng, kind: kind,
                key: key, folded: fold(name)});
    }
    (this.controlPlaces || []).forEach(function (f, i) {
      var p = f.properties || {}, c = f.geometry && f.geometry.type === 'Point' && f.geometry.coordinates;
      add(p.place || p.name || p.place_id, p.admin1, c ? L.latLng(c[1], c[0]) : null, 'control', i);
    });
    var ev = this.eventData && this.eventData.events;
    ((ev && ev.features) || []).forEach(function (f) {
      var p = f.properties || {}, g = f.geometry || {}, c = null;
      if (g.type === 'Point') { c = g.coordinates; }
      else if (g.type === 'LineString' && g.coordinates && g.coordinates.length) { c = g.coordinates[0]; }
      add(p.place, p.admin1, c ? L.latLng(c[1], c[0]) : null, 'event', p.event_id);
    });
    return out;
  };

  /** Pan to a search result and open its popup (the drawn marker's when there is one). */
  GeoEvents.prototype.showResult = function (r) {
    var self = this, target = null, layer = r.kind === 'control' ? this.layers.control : this.layers.events;
    // without animation: the view and every zoom handler settle before the popup opens,
    // so a layer redrawn at the end of a zoom cannot close it again
    this.map.setView(r.latlng, Math.max(this.map.getZoom(), 10), {animate: false});
    if (layer && this.map.hasLayer(layer)) {
      layer.eachLayer(function (l) {
        var p = (l.feature && l.feature.properties) || {};
        if (!target && (r.kind === 'control' ? p.pi === r.key : p.event_id === r.key)) { target = l; }
      });
    }
    if (target) {
      target.fire('click', {latlng: target.getLatLng()}, true);
      return;
    }
    var html;
    if (r.kind === 'control') {
      html = this.controlPopup({pi: r.key, hi: -1, place: r.name, admin1: r.admin1,
                                controller: null, status: 'not reported yet', claimants: []});
    } else {
      var ev = (this.eventData.events.features || []).filter(function (x) {
        return x.properties && x.properties.event_id === r.key;
      })[0];
      html = this.eventPopup((ev && ev.properties) || {place: r.name});
    }
    L.popup({maxWidth: 380}).setLatLng(r.latlng).setContent(html).openOn(this.map);
  };

  /** A search box (top left): type a place name, pick a result. */
  GeoEvents.prototype.searchBox = function () {
    var self = this, index = null;
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'ge-search');
      var input = L.DomUtil.create('input', 'ge-search-input', div);
      input.type = 'search';
      input.placeholder = 'Find a place\u2026';
      input.setAttribute('aria-label', 'Find a place');
      var ul = L.DomUtil.create('ul', 'ge-search-list', div);
      var results = [];
      function render() {
        index = index || self.searchIndex();
        var q = fold(input.value);
        ul.textContent = '';
        results = [];
        if (!q) { return; }
        var pre = [], mid = [];
        index.forEach(function (r) {
          var i = r.folded.indexOf(q);
          if (i === 0) { pre.push(r); } else if (i > 0) { mid.push(r); }
        });
        results = pre.concat(mid).slice(0, 12);
        results.forEach(function (r, i) {
          var li = L.DomUtil.create('li', 'ge-search-item', ul);
          li.textContent = r.name + (r.admin1 ? ', ' + r.admin1 : '');  // text, never HTML
          var kind = L.DomUtil.create('span', 'ge-muted', li);
          kind.textContent = r.kind === 'control' ? ' \u00b7 control' : ' \u00b7 event';
          L.DomEvent.on(li, 'click', function () { pick(i); });
        });
      }
      function pick(i) {
        if (!results[i]) { return; }
        self.showResult(results[i]);
        ul.textContent = '';
      }
      L.DomEvent.on(input, 'input', render);
      L.DomEvent.on(input, 'keydown', function (e) {
        if (e.key === 'Enter') { pick(0); }
        if (e.key === 'Escape') { input.value = ''; ul.textContent = ''; }
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      self.searchInput = input;
      return div;
    };
    ctl.addTo(this.map);
    return ctl;
  };

  GeoEvents.prototype.mentionPopup = function (p) {
    return '<div class="ge-popup"><div class="ge-pop-title">' + esc(p.name) +
      (p.admin1 ? ', ' + esc(p.admin1) : '') + '</div>' + esc(p.mentions) + ' mention(s) in ' +
      esc(p.docs) + ' document(s)</div>';
  };

  /** Places mentioned in the text (aggregated per place in Python). */
  GeoEvents.prototype.mentionsLayer = function (data) {
    var self = this;
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, latlng) {
        var n = (f.properties && f.properties.mentions) || 1;
        return L.circleMarker(latlng, {
          renderer: self.canvas, radius: Math.min(3 + Math.sqrt(n), 14), color: '#555555',
          weight: 1, opacity: 0.8, fillColor: '#bbbbbb', fillOpacity: 0.5
        });
      }
    });
    this.layers.mentions = layer;
    return this._popup(layer, this.mentionPopup);
  };

  /** Governorate (admin1) or district (admin2) outlines; not interactive. */
  GeoEvents.prototype.boundaryLayer = function (data, level) {
    var admin1 = level === 'admin1';
    var layer = L.geoJSON(data, {
      filter: function (f) {
        var lv = (f.properties && f.properties.level) || 'admin1';
        return lv === level;
      },
      interactive: false,
      renderer: this.boundaryRenderer,
      style: function () {
        return admin1
          ? {renderer: this.boundaryRenderer, color: '#8a8a8a', weight: 1, opacity: 1,
             fillColor: '#f4f1ea', fillOpacity: 0.9, interactive: false}
          : {renderer: this.boundaryRenderer, color: '#a8a8a8', weight: 0.6, opacity: 1,
             dashArray: '3 3', fill: false, interactive: false};
      }.bind(this)
    });
    this.layers[level] = layer;
    return layer;
  };

  GeoEvents.prototype.legend = function (html) {
    var ctl = L.control({position: 'bottomright'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'ge-legend');
      div.innerHTML = html;  // built in Python from fixed constants only
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(this.map);
    return ctl;
  };

  /** Number of features drawn by the event layers (points + roads). */
  GeoEvents.prototype.eventCount = function () {
    var n = 0;
    if (this.layers.events) {
      n += this.layers.events.count ? this.layers.events.count() : this.layers.events.getLayers().length;
    }
    if (this.layers.roads) { n += this.layers.roads.getLayers().length; }
    return n;
  };

  /** Fit the view to the data: events, else control, else boundaries, else Syria. */
  GeoEvents.prototype.fit = function (fallback) {
    var order = [['events', 'roads'], ['control'], ['admin1', 'admin2']], i, j, b, l;
    for (i = 0; i < order.length; i++) {
      b = L.latLngBounds([]);
      for (j = 0; j < order[i].length; j++) {
        l = this.layers[order[i][j]];
        if (l && (l.count ? l.count() : l.getLayers().length)) { b.extend(l.getBounds()); }
      }
      if (b.isValid()) {
        this.map.fitBounds(b, {padding: [30, 30], maxZoom: 10});
        return;
      }
    }
    this.map.fitBounds(fallback);
  };

  /** Sets window.geoeventsReady (and geoeventsReadyAt, performance.now() in ms) on the
   * animation frame after the layers were added, i.e. once the canvas has drawn them. */
  GeoEvents.prototype.ready = function () {
    L.Util.requestAnimFrame(function () {
      root.geoeventsReadyAt = root.performance ? root.performance.now() : null;
      root.geoeventsReady = true;
    });
  };

  GeoEvents.esc = esc;
  GeoEvents.ClusteredEvents = ClusteredEvents;
  GeoEvents.dayMs = dayMs;
  GeoEvents.safeUrl = safeUrl;
  GeoEvents.readJSON = readJSON;
  GeoEvents.GlyphMarker = GlyphMarker;
  root.GeoEvents = GeoEvents;
}(window));
