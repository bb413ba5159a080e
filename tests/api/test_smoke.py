from tests.world import World


def test_health(http):
    body = http.get("/api/health").json()
    assert body["status"] == "ok"


def test_participant_sees_closed_dataset(http, world: World):
    url = f"/api/datasets/{world.closed_dataset}"
    assert http.get(url, headers=world.headers("participant")).status_code == 200
    assert http.get(url).status_code == 404
