"""The backtest and replay report: one chart model (:mod:`.chart`) drawn as a self-contained
HTML page with inline SVG (:mod:`.html`) and as a PNG (:mod:`.png`, needs Pillow)."""
