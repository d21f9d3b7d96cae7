"""The courses domain's models, one module per concern."""

from lms.courses.models.programmes import (  # noqa: F401
    DEFAULT_FIVE_POINT,
    FROZEN,
    MIN_HOURS,
    Audience,
    ControlForm,
    CurriculumModule,
    Direction,
    FinalAttestationForm,
    Programme,
    ProgrammeKind,
    ProgrammeReview,
    ProgrammeReviewer,
    ProgrammeStatus,
    ResultScale,
    ReviewAction,
)
