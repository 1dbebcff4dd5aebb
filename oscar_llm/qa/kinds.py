"""The product-question job kind and target names (nothing outside ``oscar_llm/qa`` names them)."""

ANSWER_JOB = "qa.answer"
QUESTION_TARGET = "oscar_llm.productquestion"
