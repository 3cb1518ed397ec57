"""The UCWA dialect: hypermedia resources rendered as JSON or XML, UCWA's error shape."""
