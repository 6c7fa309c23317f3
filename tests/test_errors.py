"""Transport rules: error shape, unknown routes, Content-Type on every response."""

from .helpers import expect_raw_error


def test_unknown_routes_answer_json_404(raw):
    for method, path in [
        ("GET", "/nothing"),
        ("POST", "/functions/x/nothing/here"),
        ("PATCH", "/functions"),
    ]:
        expect_raw_error(raw.request(method, path), 404, "general_route_not_found")


def test_errors_carry_no_cache_headers(raw):
    response = raw.get("/functions/missing")
    expect_raw_error(response, 404, "function_not_found")
    assert response.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
    assert response.headers["Content-Type"].startswith("application/json")


def test_204_has_a_content_type(raw):
    raw.post("/functions", json={"functionId": "del", "name": "Del", "runtime": "python-3.11"})
    response = raw.delete("/functions/del", json={})
    assert response.status_code == 204 and response.content == b""
    assert "Content-Type" in response.headers


def test_malformed_json_body(raw):
    response = raw.post(
        "/functions", data="{not json", headers={"Content-Type": "application/json"}
    )
    expect_raw_error(response, 400, "general_argument_invalid")


def test_queries_in_every_array_form(raw):
    for i in range(3):
        raw.post(
            "/functions", json={"functionId": f"f{i}", "name": f"F{i}", "runtime": "python-3.11"}
        )
    limit = '{"method":"limit","values":[1]}'
    for params in ({"queries[0]": limit}, {"queries[]": limit}, {"queries": limit}):
        body = raw.get("/functions", params=params).json()
        assert (body["total"], len(body["functions"])) == (3, 1)
    assert raw.get("/functions", params={"total": "False"}).json()["total"] == 0
