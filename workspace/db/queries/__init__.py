"""Every SQL statement of the project, grouped by the table family it reads or writes."""
