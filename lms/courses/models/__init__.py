"""The courses domain's models, one module per concern."""

from lms.courses.models.attestation import AttestationRecord  # noqa: F401, E402
from lms.courses.models.certificates import (  # noqa: F401, E402
    Certificate,
    CertificateSequence,
    CertificateSettings,
    CertificateStatus,
    CertificateTemplate,
    DocumentKind,
    VerificationAttempt,
)
from lms.courses.models.content import (  # noqa: F401, E402
    SLOT_KINDS,
    Activity,
    ActivityKind,
    ActivityProgress,
    Announcement,
    CompletionRule,
    Section,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from lms.courses.models.grades import GradeCategory, GradeChange, GradeItem, GradeOverride  # noqa: F401, E402
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
from lms.courses.models.runs import (  # noqa: F401, E402
    ENDED,
    HOLDS_PLACE,
    CourseRun,
    Enrolment,
    EnrolmentMethod,
    EnrolmentStatus,
    RunGroup,
    RunStaff,
    RunStaffRole,
)
