import pytest
from appwrite.exception import AppwriteException


def expect_error(call, code, type_, message=None):
    """Run an SDK call that must fail with this Appwrite error; returns the exception."""
    with pytest.raises(AppwriteException) as info:
        call()
    error = info.value
    assert (error.code, error.type) == (code, type_), (error.code, error.type, error.message)
    if message is not None:
        assert error.message == message
    return error


def expect_raw_error(response, code, type_, message=None):
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"message", "code", "type", "version"}
    assert (body["code"], body["type"], body["version"]) == (code, type_, "1.8.0")
    if message is not None:
        assert body["message"] == message
    return body
