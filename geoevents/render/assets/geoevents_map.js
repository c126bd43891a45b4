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

  /** Parse the text of the JSON script element with this id (once per id: layers
   * sharing a block share the parsed object, which Leaflet does not modify); null when absent. */
  var parsed = {};
  function readJSON(id) {
    if (!Object.prototype.hasOwnProperty.call(parsed, id)) {
      var el = document.getElementById(id);
      parsed[id] = el ? JSON.parse(el.textContent) : null;
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
    h += '<table class="ge-pop-table">' + rows.map(function (r) {
      return '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>';
    }).join('') + '</table>';
    if (p.sentence) { h += '<blockquote class="ge-pop-quote">' + esc(p.sentence) + '</blockquote>'; }
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

  /** Point events as glyph markers on the shared canvas. */
  GeoEvents.prototype.eventsLayer = function (data) {
    var self = this, glyphs = this.cfg.glyphs;
    var layer = L.geoJSON(data, {
      filter: function (f) { var g = geomType(f); return g === 'Point' || g === 'MultiPoint'; },
      pointToLayer: function (f, latlng) {
        var p = f.properties || {}, t = self.typeInfo(p.type);
        return new GlyphMarker(latlng, {
          renderer: self.canvas, radius: t.radius, glyph: t.glyph, glyphs: glyphs,
          color: self.cfg.stroke, weight: 1, opacity: 0.95,
          fillColor: self.eventColour(p), fillOpacity: 0.9
        });
      }
    });
    this.layers.events = layer;
    return this._popup(layer, this.eventPopup);
  };

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
    return this._popup(layer, this.eventPopup);
  };

  GeoEvents.prototype.controlPopup = function (p) {
    var rows = [['Controller', this.actorsHtml(p.controller)], ['Status', esc(p.status || 'unknown')]];
    if (p.date) { rows.push(['As of', esc(p.date)]); }
    if (p.source) { rows.push(['Source', esc(p.source)]); }
    return '<div class="ge-popup"><div class="ge-pop-title">' + esc(p.name || p.place || p.place_id || 'place') +
      (p.admin1 ? ', ' + esc(p.admin1) : '') + '</div><table class="ge-pop-table">' +
      rows.map(function (r) { return '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>'; }).join('') +
      '</table></div>';
  };

  /** Places coloured by controller. A later time slider can rebuild this layer from a
   * filtered copy of the data (see GeoEvents.prototype.setControl). */
  GeoEvents.prototype.controlLayer = function (data) {
    var self = this;
    var layer = L.geoJSON(data, {
      filter: function (f) { return geomType(f) === 'Point'; },
      pointToLayer: function (f, latlng) {
        var p = f.properties || {}, c = list(p.controller);
        var contested = /contest|disput|unclear|unknown/i.test(String(p.status || ''));
        return L.circleMarker(latlng, {
          renderer: self.canvas, radius: 5, color: '#ffffff', weight: 1.5, opacity: 1,
          dashArray: contested ? '2 2' : null,
          fillColor: c.length ? self.actorColour(c[0]) : self.cfg.unknown.colour,
          fillOpacity: contested ? 0.45 : 0.85
        });
      }
    });
    this.layers.control = layer;
    return this._popup(layer, this.controlPopup);
  };

  /** Replace the control layer's features (for a time slider): keeps the layer object. */
  GeoEvents.prototype.setControl = function (data) {
    var layer = this.layers.control;
    if (!layer) { return; }
    layer.clearLayers();
    layer.addData(data);
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
    if (this.layers.events) { n += this.layers.events.getLayers().length; }
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
        if (l && l.getLayers().length) { b.extend(l.getBounds()); }
      }
      if (b.isValid()) {
        this.map.fitBounds(b, {padding: [30, 30], maxZoom: 10});
        return;
      }
    }
    this.map.fitBounds(fallback);
  };

  GeoEvents.esc = esc;
  GeoEvents.safeUrl = safeUrl;
  GeoEvents.readJSON = readJSON;
  GeoEvents.GlyphMarker = GlyphMarker;
  root.GeoEvents = GeoEvents;
}(window));
