def test_the_dashboard_answers_a_logged_in_registrar(cast, client_for):
    response = client_for(cast.a1_registrar).get("/")
    assert response.status_code == 200
    assert "胡集镇第三小学" in response.text
