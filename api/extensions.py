"""The Api and the scoped database Session, created unbound at import and bound in create_app."""

from flask_smorest import Api
from sqlalchemy.orm import scoped_session, sessionmaker

api = Api()
Session = scoped_session(sessionmaker(expire_on_commit=False, autoflush=True))
