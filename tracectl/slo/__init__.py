"""SLOs: Sloth and OpenSLO specs read into one model (``spec``), burn-rate maths (``burn``), Prometheus rules
(``rules``) and the Grafana dashboard (``dashboard``)."""
