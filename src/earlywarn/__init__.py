"""earlywarn: early warning, with reasons, of households at risk of falling back into poverty."""

__version__ = "0.1.0"
