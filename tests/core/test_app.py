from flask.testing import FlaskClient


def test_home_page_answers_with_security_headers(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_unknown_page_is_a_readable_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert b"Not Found" in response.data


def test_unknown_api_path_is_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404
    assert response.json["code"] == "not_found"
