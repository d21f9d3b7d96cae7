"""Forms for login, passwords, people, memberships, parents, consents, tokens and import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from lms.core.forms import select_choices
from lms.labels import CONSENT_LABELS, RELATION_LABELS

SEX_CHOICES = select_choices([("", _l("— not set —")), ("m", _l("Male")), ("f", _l("Female"))])


class LoginForm(FlaskForm):
    username = StringField(_l("Login or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 description=_l("At least 8 characters; not a common password."))
    confirm = PasswordField(_l("Repeat the new password"), validators=[DataRequired()])

    def validate_confirm(self, field):
        if field.data != self.new_password.data:
            raise ValidationError(_l("The passwords do not match."))


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class ResetRequestForm(FlaskForm):
    login = StringField(_l("Login or e-mail"), validators=[DataRequired(), Length(max=254)])


class PersonForm(FlaskForm):
    surname = StringField(_l("Surname"), validators=[DataRequired(), Length(max=100)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(_l("Patronymic"), validators=[Optional(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=32)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    sex = SelectField(_l("Sex"), choices=SEX_CHOICES, validators=[Optional()])
    snils = StringField(_l("SNILS"), validators=[Optional(), Length(max=20)],
                        description=_l("Format 000-000-000 00; the checksum is verified."))
    time_zone = SelectField(_l("Time zone"), validators=[Optional()])

    def person_data(self) -> dict:
        return {
            "surname": self.surname.data, "name": self.name.data, "patronymic": self.patronymic.data or "",
            "email": self.email.data, "phone": self.phone.data or "", "birth_date": self.birth_date.data,
            "sex": self.sex.data or None, "snils": self.snils.data, "time_zone": self.time_zone.data or None,
        }


class NewPersonForm(PersonForm):
    username = StringField(_l("Login"), validators=[DataRequired(), Length(max=100)],
                           description=_l("Latin letters, digits and . _ - @"))
    organization = SelectField(_l("Organization"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    grade = IntegerField(_l("Grade"), validators=[Optional(), NumberRange(min=0, max=11)],
                         description=_l("For students: 0–11"))
    class_letter = StringField(_l("Class letter"), validators=[Optional(), Length(max=4)])


class MembershipForm(FlaskForm):
    organization = SelectField(_l("Organization"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    grade = IntegerField(_l("Grade"), validators=[Optional(), NumberRange(min=0, max=11)],
                         description=_l("For students: 0–11"))
    class_letter = StringField(_l("Class letter"), validators=[Optional(), Length(max=4)])


class ParentLinkForm(FlaskForm):
    parent_username = StringField(_l("Parent's login (existing account)"), validators=[Optional(), Length(max=100)])
    surname = StringField(_l("Surname"), validators=[Optional(), Length(max=100)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    patronymic = StringField(_l("Patronymic"), validators=[Optional(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    relation = SelectField(_l("Relation"), choices=select_choices(RELATION_LABELS.items()))


class ConsentForm(FlaskForm):
    kind = SelectField(_l("Consent"), choices=select_choices(CONSENT_LABELS.items()))
    given_on = DateField(_l("Date given"), validators=[DataRequired()])
    given_by = SelectField(_l("Given by"), coerce=int)
    document = StringField(_l("Document (number, where kept)"), validators=[Optional(), Length(max=300)])


class MergeForm(FlaskForm):
    duplicate_username = StringField(_l("Login of the duplicate account"),
                                     validators=[DataRequired(), Length(max=100)])
    confirm = BooleanField(_l("I understand that the duplicate will be deactivated"),
                           validators=[DataRequired()])


class ProfileForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=32)])
    locale = SelectField(_l("Language"))
    time_zone = SelectField(_l("Time zone"), validators=[Optional()])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. «timetable sync»"))
    days = IntegerField(_l("Lifetime, days"), validators=[Optional(), NumberRange(min=1, max=3650)],
                        description=_l("Leave empty for a token without an expiry date."))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Only CSV files."))],
                     description=_l("UTF-8 or Windows-1251, separator «,» or «;»."))
    organization = SelectField(_l("Default organization"), coerce=int, validators=[Optional()],
                               description=_l("Used for lines without the «organization» column."))
    update_existing = BooleanField(_l("Update people who already exist (by login)"))
    dry_run = BooleanField(_l("Dry run: only check the file, write nothing"), default=True)
