"""Assessment: question types with pure grading, question banks, quizzes and attempts (issue 4, in progress)."""
