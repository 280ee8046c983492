"""Every verb is decorated and authorized; browser sessions need the XSRF token.

The matrix of every route x verb x stranger (no token, wrong token, ?token=WRONG) lives in
tests/test_security.py, derived from the server's handler table."""

import tornado.web


def test_every_workspace_handler_is_decorated(jp_serverapp):
    """jupyter_server's own audit finds no undecorated verb, and every verb is authorized."""
    from jupyter_workspace.server import handlers

    for pattern, handler in handlers.default_handlers:
        assert jp_serverapp.web_app._check_handler_auth(pattern, handler) == []
        if handler is handlers.EventsHandler:
            continue  # authorized by hand inside get(): @authorized needs an HTTP verb
        for verb in ("get", "post", "patch", "put", "delete"):
            method = getattr(handler, verb)
            if method is tornado.web.RequestHandler._unimplemented_method:
                continue
            inner = method.__wrapped__
            assert inner.__code__.co_qualname.startswith("authorized"), (
                f"{handler.__name__}.{verb} lacks @authorized"
            )


async def test_cookie_sessions_need_the_xsrf_token(api, jp_fetch, jp_serverapp):
    """A browser session (cookie, no token header) must send the XSRF token, as JupyterLab does."""
    token = jp_serverapp.identity_provider.token
    login = await jp_fetch(
        "login",
        params={"next": "/"},
        method="GET",
        raise_error=False,
        headers={"Authorization": ""},
    )
    xsrf = login.headers.get_list("Set-Cookie")
    page = await jp_fetch("api", "status", params={"token": token}, headers={"Authorization": ""})
    cookies = [c.split(";", 1)[0] for c in xsrf + page.headers.get_list("Set-Cookie")]
    xsrf_value = next(c.split("=", 1)[1] for c in cookies if c.startswith("_xsrf="))
    cookie = "; ".join(cookies)
    browser = {"Authorization": "", "Cookie": cookie}

    status, _ = await api("POST", "notes", {"title": "no xsrf"}, headers=browser)
    assert status == 403
    status, note = await api(
        "POST", "notes", {"title": "with xsrf"}, headers={**browser, "X-XSRFToken": xsrf_value}
    )
    assert status == 201, note
    _, notes = await api("GET", "notes")
    assert [n["title"] for n in notes["notes"]] == ["with xsrf"]
