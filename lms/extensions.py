"""Extension objects, created unbound and attached in ``create_app``."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy

from lms.core.db import Base
from lms.core.security import CSRFProtection

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtection()
babel = Babel()
socketio = SocketIO()
api = Api()
