"""The ceiling: a bare Flask app answering "hello", served the same way as the shop."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
