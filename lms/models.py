"""Imports every model module so the metadata (and Alembic) sees all tables."""

from lms.accounts import models as accounts_models  # noqa: F401
from lms.assessment import models as assessment_models  # noqa: F401
from lms.core import audit, calendar, mail, notifications  # noqa: F401
from lms.courses import models as courses_models  # noqa: F401
from lms.orgs import models as orgs_models  # noqa: F401
