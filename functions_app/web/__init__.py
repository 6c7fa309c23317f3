"""The console: server-rendered pages over the same services and validation as the API."""
