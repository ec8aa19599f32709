"""Code that runs inside the Rasa server (the Rasa environment): it must not import bot/, whose dependencies
live in the app environment."""
