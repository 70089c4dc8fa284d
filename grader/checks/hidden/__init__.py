"""The hidden checks, one module per stub; a student handout leaves this folder out."""
