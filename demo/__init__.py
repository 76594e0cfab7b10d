"""Demo data: a realistic helpdesk with 90 days of history (`seed_demo`).

catalog   the fixed cast: organisations, teams, categories, agents, logins
people    creates the cast in the database through the services
texts     what tickets and replies say, per category
timeline  office hours, arrival times, fast timestamp text
history   plans each ticket's life and plays it into rows
rows      the row layout shared by the generator and the sinks
writers   the sinks: COPY into PostgreSQL, executemany elsewhere
runner    ties them together in one transaction
"""
