"""Renderers: terminal views (rich), machine formats (JSON/JSONL/CSV), reports. They never compute."""
