"""Shared pytest configuration."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives a real Chromium through Playwright (skipped when unavailable)")
