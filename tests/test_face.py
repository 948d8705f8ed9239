"""The site's face: Swedish first whatever the browser asks, the language switch, Swedish error
pages in the site layout, the static files and date fields in Swedish order."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.template import loader
from django.urls import reverse

from fullfolj.attendance.forms import PeriodForm


def test_an_english_browser_still_gets_swedish(client):
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="sv">' in body
    assert "Logga in" in body and "Log in" not in body


def test_the_language_switch_gives_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302 and response.url == reverse("login")
    body = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in body and "Log in" in body
    client.post(reverse("set_language"), {"language": "sv", "next": reverse("login")})
    assert '<html lang="sv">' in client.get(reverse("login")).content.decode()


def test_every_page_offers_the_switch_with_each_language_in_its_own_name(client, cast):
    client.force_login(cast.teacher.user)
    body = client.get(reverse("elevakt:my-groups")).content.decode()
    switch = body[body.index('<footer class="site">') :]
    assert f'action="{reverse("set_language")}"' in switch
    assert '<label for="language">Språk</label>' in switch
    assert re.search(r'<option value="sv" lang="sv" selected>Svenska</option>', switch)
    assert '<option value="en" lang="en">English</option>' in switch


def test_a_page_that_is_not_there_is_swedish_and_in_the_site_layout(client, cast):
    client.force_login(cast.teacher.user)
    response = client.get(reverse("elevakt:pupil", args=[cast.pupil_elsewhere.pk]))
    body = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Sidan finns inte</h1>" in body
    assert 'nav aria-label="Huvudmeny"' in body  # the signed-in menu, to find the way back
    assert cast.pupil_elsewhere.last_name not in body
    anonymous = client.__class__().get("/finns-inte/", HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.status_code == 404 and "Sidan finns inte" in anonymous.content.decode()


def test_the_server_error_page_renders_without_a_request():
    body = loader.get_template("500.html").render()
    assert "<h1>Något gick fel</h1>" in body
    assert 'rel="stylesheet"' in body  # styled without the request's nonce
    assert "<form" not in body  # no language form without a CSRF token


def test_the_stylesheet_logo_favicon_and_menu_script_are_static_files(client):
    for name in ("site.css", "logo.svg", "favicon.svg", "menu.js"):
        assert finders.find(f"fullfolj/{name}"), name
    body = client.get(reverse("login")).content.decode()
    assert re.search(r'<link rel="icon" href="/static/fullfolj/favicon.svg"', body)
    assert "<style" not in body.split("</head>")[0].replace('<style nonce="', "")  # none bare
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/fullfolj/menu.js">']


def test_the_menu_is_one_button_away_on_a_phone(client, cast):
    client.force_login(cast.mentor.user)
    body = client.get(reverse("elevakt:my-pupils")).content.decode()
    toggle = re.search(r'<button type="button" class="menu-toggle[^"]*"([^>]*)>', body)
    assert toggle and 'aria-expanded="false"' in toggle.group(1)
    assert 'aria-controls="site-menu"' in toggle.group(1)
    assert 'id="site-menu"' in body


def test_date_fields_ask_for_swedish_order_and_refuse_the_us_one():
    form = PeriodForm({"start": "03/01/2026", "end": "2026-03-18"})
    html = str(form["start"])
    assert 'type="text"' in html and 'placeholder="ÅÅÅÅ-MM-DD"' in html
    assert not form.is_valid() and "start" in form.errors
    assert 'value="2026-03-18"' in str(form["end"])


def test_the_admin_carries_the_product_s_name_and_icon(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.se", "pw"))
    body = client.get(reverse("admin:index")).content.decode()
    assert "Fullfölj – administration" in body and "Django" not in body.split("<body")[1]
    assert 'href="/static/fullfolj/favicon.svg"' in body
