"""Wiring only: the Chalice app, its blueprints, event sources and middleware."""

from chalice import Chalice

from chalicelib import observability

app = Chalice(app_name="cmlbridge")


@app.middleware("all")
def observe(event, get_response):
    return observability.around(event, get_response)


@app.route("/health", methods=["GET"])
def health():
    return {"status": "ok"}
