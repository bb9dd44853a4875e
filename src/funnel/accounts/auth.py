from flask import Flask

from funnel.extensions import login_manager


def init_app(app: Flask) -> None:
    login_manager.user_loader(lambda _user_id: None)
