"""Keyboard-only use: the skip link, logging in, the version for visually impaired users, error summaries,
confirmations and the folded menu on narrow screens."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ACTIVE = """() => {
    const el = document.activeElement;
    return {tag: el.tagName.toLowerCase(), id: el.id, name: el.name || '', cls: el.className || '',
            text: (el.innerText || '').trim().slice(0, 80),
            action: el.form ? el.form.getAttribute('action') : null,
            toggle: !!(el.form && el.form.querySelector('input[name=toggle]'))};
}"""


def tab_until(page, predicate, *, limit: int = 40) -> dict:
    """Press Tab until the focused element matches; fail with the path taken if it never does."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if predicate(active):
            return active
        seen.append(active["id"] or active["name"] or active["text"] or active["tag"])
    pytest.fail(f"not reached with Tab; focus went through: {seen}")


def test_skip_link_is_first_and_moves_focus_to_main(ui):
    tab = ui.visitor()
    tab.goto("/login")
    page = tab.page
    page.keyboard.press("Tab")
    active = page.evaluate(ACTIVE)
    assert "skip-link" in active["cls"], f"first Tab stop is {active}"
    box = page.locator(".skip-link").bounding_box()
    assert box and box["y"] >= 0 and box["width"] > 20, f"the focused skip link is not visible: {box}"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'content'")
    # The next Tab continues inside the main content, not back in the header.
    active = tab_until(page, lambda a: True, limit=1)
    inside = page.evaluate("() => !!document.activeElement.closest('main')")
    assert inside, f"after the skip link, Tab went to {active}"


def test_login_with_the_keyboard_only(ui):
    tab = ui.visitor()
    tab.goto("/login")
    page = tab.page
    tab_until(page, lambda a: a["id"] == "username")
    page.keyboard.type("teacher")
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)["id"] == "password"
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/", f"expected the dashboard, got {page.url}"
    assert page.locator("nav.site-nav").count() == 1, "the logged-in menu is missing after login"
    assert "Анна" in page.inner_text("h1"), page.inner_text("h1")


def test_errors_take_the_focus_and_lead_to_the_field(ui):
    tab = ui.visitor()
    tab.goto("/login")
    page = tab.page
    tab_until(page, lambda a: a["id"] == "username")
    page.keyboard.press("Enter")  # an empty form
    page.wait_for_selector(".error-summary")
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    tab_until(page, lambda a: a["tag"] == "a", limit=1)
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id === 'username'")
    assert page.get_attribute("#username", "aria-invalid") == "true"
    described = page.get_attribute("#username", "aria-describedby") or ""
    assert "username-error" in described and page.locator("#username-error").is_visible()


def test_version_for_visually_impaired_by_keyboard_is_remembered_for_the_user(ui):
    # This user's settings are changed by this test only; its own session, as it logs out.
    tab = ui.new_tab("methodologist", fresh_login=True)
    page = tab.page
    tab.goto("/")
    assert "a11y" not in tab.body_classes()
    tab_until(page, lambda a: a["tag"] == "button" and a["toggle"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "a11y" in tab.body_classes(), tab.body_classes()
    assert page.url.endswith("/"), f"the toggle should come back to the same page, got {page.url}"

    with page.expect_navigation():
        page.click(".site-header form[action$='/logout'] button")
    tab.login("methodologist")
    assert "a11y" in tab.body_classes(), "the version for visually impaired users was forgotten after login"

    # …and it can be turned off the same way.
    tab_until(page, lambda a: a["tag"] == "button" and a["toggle"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "a11y" not in tab.body_classes()


def test_visitor_can_turn_on_the_version_for_visually_impaired(ui):
    tab = ui.visitor()
    tab.goto("/login")
    page = tab.page
    tab_until(page, lambda a: a["tag"] == "button" and a["toggle"])
    with page.expect_navigation():
        page.keyboard.press(" ")
    assert "a11y" in tab.body_classes()
    assert page.url.endswith("/login"), page.url
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p, main label')).fontSize)")
    assert size >= 24, f"the default large type should be at least 24 px, got {size}"


def test_confirmation_before_a_destructive_action(ui, live_server):
    tab = ui.tab("orgadmin")
    page = tab.page
    tab.goto(f"/people/{live_server.ids['user:school1_7a_1']}")
    form = page.locator("form[data-confirm]:has(button.btn--danger)")
    deactivate = form.locator("button")
    question = form.get_attribute("data-confirm")
    messages = []

    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    deactivate.click()
    page.wait_for_timeout(300)
    assert messages == [question], f"expected the confirmation {question!r}, got {messages}"
    assert page.locator("h1 .badge").count() == 0, "dismissing the confirmation must not deactivate"

    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        deactivate.focus()
        page.keyboard.press("Enter")
    assert page.locator("h1 .badge").count() == 1, "accepting the confirmation should deactivate the person"


def test_menu_folds_on_narrow_screens_and_works_without_javascript(ui):
    tab = ui.tab("coordinator")
    page = tab.page
    page.set_viewport_size({"width": 320, "height": 640})
    tab.goto("/")
    button = page.locator(".site-nav__toggle")
    links = page.locator(".site-nav ul a")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not links.first.is_visible()
    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true" and links.first.is_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert "site-nav__toggle" in page.evaluate(ACTIVE)["cls"], "Escape should return the focus to the button"

    plain = ui.new_tab("coordinator", viewport={"width": 320, "height": 640}, java_script_enabled=False)
    plain.goto("/")
    assert not plain.page.locator(".site-nav__toggle").is_visible()
    assert plain.page.locator(".site-nav ul a").first.is_visible(), "without JS the menu must stay open"

    page.set_viewport_size({"width": 1280, "height": 800})
    assert not button.is_visible(), "the menu button is for narrow screens only"
    assert links.first.is_visible()
