"""Courses: programmes (ДПП) with their curriculum, course runs, content, enrolment, completion, grades and
certificates."""
