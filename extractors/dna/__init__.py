"""STR DNA profiles: loci and kits, allele designations, the profile template, file formats.

Public names: :class:`StrProfile`, :class:`ProfileCategory`, :class:`ProfileError`,
the readers/writers for GeneMapper-style CSV and CODIS CMF XML, and the
frequency-table readers.
"""
from .alleles import WILDCARD, parse_allele
from .formats_cmf import format_cmf, parse_cmf, read_cmf, write_cmf
from .formats_csv import (format_genemapper_csv, parse_genemapper_csv, read_control_profiles,
                          read_genemapper_csv, read_genotype_table, write_genemapper_csv)
from .frequencies import (FrequencyTable, format_familias, load_population_tables, parse_familias,
                          read_familias, read_frequency_csv)
from .loci import AMELOGENIN, CODIS_CORE_20, ESS_12, KITS, PRUM_7, kit_loci, normalise_locus
from .params import DNA_ALGORITHM_VERSION, ProfileRules, SearchParams, StatsParams
from .profile import PROFILE_VERSION, ProfileCategory, ProfileError, StrProfile

__all__ = [
    "WILDCARD", "parse_allele", "format_cmf", "parse_cmf", "read_cmf", "write_cmf",
    "format_genemapper_csv", "parse_genemapper_csv", "read_control_profiles", "read_genemapper_csv",
    "read_genotype_table", "write_genemapper_csv", "FrequencyTable", "format_familias",
    "load_population_tables", "parse_familias", "read_familias", "read_frequency_csv",
    "AMELOGENIN", "CODIS_CORE_20", "ESS_12", "KITS", "PRUM_7", "kit_loci", "normalise_locus",
    "DNA_ALGORITHM_VERSION", "ProfileRules", "SearchParams", "StatsParams",
    "PROFILE_VERSION", "ProfileCategory", "ProfileError", "StrProfile",
]
