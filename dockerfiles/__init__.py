"""Dockerfile templates and the in-image build script (shipped as package data)."""
