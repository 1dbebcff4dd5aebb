"""Product questions answered on the product page: evidence, ranking, answering, review, publishing."""
