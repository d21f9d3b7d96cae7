"""Forms for organizations, their statuses, municipalities and academic years.

The forms check only the shape of the input (required, length, integer); the rules — code and INN
formats, known kinds, statuses and time zones, unique codes and names — live in ``orgs.services`` so
that pages and the API give the same answers. Select fields whose value a service checks therefore
skip WTForms' own choice check, leaving the service's clearer message on the field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from lms.core.forms import select_choices
from lms.labels import ORG_KIND_LABELS, ORG_STATUS_LABELS


def _kind_choices() -> list[SelectChoice]:
    return select_choices(ORG_KIND_LABELS.items())


class OrganizationForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_kind_choices, validate_choice=False,
                       validators=[DataRequired()])
    name = StringField(_l("Full name of the organization"), validators=[DataRequired(), Length(max=300)],
                       description=_l("As in the charter, e.g. «Муниципальное бюджетное общеобразовательное "
                                      "учреждение „Средняя школа № 3“»."))
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=120)],
                             description=_l("Shown in lists; leave empty to use the full name."))
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("2–40 Latin letters, digits, «-» or «_», e.g. school3. "
                                      "Used in CSV files and the API."))
    time_zone = SelectField(_l("Time zone"), validate_choice=False)
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    inn = StringField(_l("INN"), validators=[Optional(), Length(max=20)],
                      description=_l("10 digits for an organization, 12 for an individual entrepreneur."))

    def org_data(self) -> dict:
        """The submitted values in the form ``orgs.services`` expects; absent fields are left out."""
        data = {"kind": self.kind.data, "name": self.name.data, "short_name": self.short_name.data or "",
                "address": self.address.data or "", "inn": self.inn.data or ""}
        if self.time_zone.data:
            data["time_zone"] = self.time_zone.data
        if "code" in self:
            data["code"] = self.code.data
        if "is_active" in self:
            data["is_active"] = bool(self.is_active.data)
        return data


class NewOrganizationForm(OrganizationForm):
    municipality = SelectField(_l("Municipality"), coerce=int, validators=[InputRequired()])


class EditOrganizationForm(OrganizationForm):
    is_active = BooleanField(_l("Active"),
                             description=_l("A deactivated organization disappears from the lists and "
                                            "rights of its members until it is activated again."))


class OrgStatusForm(FlaskForm):
    academic_year = SelectField(_l("Academic year"), coerce=int, validators=[InputRequired()])
    status = SelectField(_l("Status"), choices=lambda: select_choices(ORG_STATUS_LABELS.items()),
                         validate_choice=False, validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)],
                       description=_l("E.g. the number and date of the order."))


class MunicipalityForm(FlaskForm):
    name = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=200)])
    time_zone = SelectField(_l("Time zone"), validate_choice=False, default="Europe/Moscow",
                            validators=[DataRequired()])


class AcademicYearForm(FlaskForm):
    start_year = IntegerField(_l("Starting year"), validators=[InputRequired()],
                              description=_l("2025 creates the year 2025/2026 (1 September – 31 August)."))
    make_current = BooleanField(_l("Make it the current year"))
