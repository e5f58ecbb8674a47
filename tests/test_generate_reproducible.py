"""`repradar generate` writes exactly the pinned bytes for a few pinned companies.

The checksums were computed from the generator before it was split into one module per
monthly process (issue #15); any change to the order of random draws, a dtype or the
order of floating point operations changes them. Parquet files embed the pyarrow version,
which uv.lock pins. If a change to the simulation is intended, regenerate the checksums
and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from pipelines.generate import GenerateRequest, generate

AS_OF = dt.date(2026, 10, 31)

DEFAULT_COMPANY = {
    "_truth/handovers.csv": "d650678042c59aa0e7ac6012e7c0b686b25f9cb9e2e4cc85277006d8735cf00e",
    "_truth/rep_months.csv": "52cbcc9297c32a7db8becbcb81b22892395f9cc1c58d78b310b36dc9d4c2afea",
    "_truth/reps.csv": "3040059069a023f19cb0dca9ee429e8c9ff49312318fa8f5f1fada1e087a4a05",
    "_truth/summary.json": "809e72a31178a4144f6858e559bca3c21037b10acda7981e414f3e8ab09dfe04",
    "crm_account_owner_history.csv": (
        "36e5bb9c5e1cc0115c72e73e8f70db370ffd280639cb0aa6e7acfac7e9df12d2"
    ),
    "crm_account_team.csv": "8128e7b19f4ce8b6447fbb7fbca5899d15745af0067d7ca9eb0b7073c72331e5",
    "crm_accounts.csv": "8537fc7dac964cbce20fc49c00a98b5ce4a9df16e1ab324f64e480df9c7c9736",
    "crm_activities.csv": "f8bac521e79dc0f7d19d35f0ee3de2f9382cdabdf993134ea19e04a45f602d0a",
    "crm_opportunities.csv": "14f338b4c8cc88afb07dbbd980fdb1301825a762e9abb8b937e67c7bb0a23dd5",
    "crm_opportunity_stage_history.csv": (
        "f3ddc391bbdb5a0088ab4cab85cbfb7ddd5e3a031b004884b77569a62e10e84d"
    ),
    "crm_users.csv": "ea2ace0a332d26cd5c9f647437e0efc5aa523cecef77e38d1bd3ee995810f2e8",
    "hr_compensation.csv": "f5f8cca00f1f2b9c3968ea682083032445831d7b132c2f72055a7b98a3dcc436",
    "hr_employees.csv": "907f589f42995273f0eb6254d7836c223001453ffe72ef3f0580ca33aa1e6961",
    "hr_engagement_surveys.csv": "8b882c5aace0cc8b1852182e3c8ac6c52ab61d194b5e0a64ac2aa7836716ce79",
    "hr_exit_interviews.csv": "351b3662a55ce2c58bac1bf19309e90eb9a8ccfd646d9d62364da9d7ccaeb273",
    "hr_job_history.csv": "c364b5c54cbbe1345bfaad670322a2134e7e2ca5d8927b1775d7c9f2bef93b4e",
    "hr_performance_reviews.csv": (
        "f0765ccf5012408d06e822e77607c797e7347b5e19fc100c2fcd3c3175c5af33"
    ),
    "sales_quotas.csv": "fcc519e4f9b0a5ef56294b77a2aeac8a8f9d902ff53b0d9022b9657a7b376b3e",
}

SMALL_PARQUET_COMPANY = {
    "_truth/handovers.csv": "c493f9bf3509dc3b6d0971f60176ac1efc1cad282db2c68ea4b9bdac041b9416",
    "_truth/rep_months.csv": "4dccc24ed7bd2d21b9a399fd623a5b86c73c82d84db3a8305f9e8d623b860a70",
    "_truth/reps.csv": "81b5ae85b07821076791345440053f38d52a98ffc202518f4d0c56c6a2b947ff",
    "_truth/summary.json": "111e7a16dcdd753ab1ee4f566312450ab758a62487338ef70d9ee4038976215a",
    "crm_account_owner_history.parquet": (
        "9b8bd6ff3538ed822e673318648a4a4ea0c5206569da0e1b60616ecb7e4b8e05"
    ),
    "crm_account_team.parquet": "42b099ff8dfd201725d657842c8b8baa0ae503c01536d28e71b30f0c68c491f9",
    "crm_accounts.parquet": "e78a584841419308d4e0b9c2397ce7bbd7ae047ec7e03f073e43bad0c8b43509",
    "crm_activities.parquet": "7e79625767dede8174861a01b83bdffce78567ea0f2ab4c6464801820dfad436",
    "crm_opportunities.parquet": "54988e43873f4a5b255017284bc118727d2af8437d594d06588f3726447f2609",
    "crm_opportunity_stage_history.parquet": (
        "b5749401e6d9e2cf4564cf504b5a83b8bb59114ed70f78e63a4a3dc4d0b991e1"
    ),
    "crm_users.parquet": "dc891f774463227414d822d08fc46b7d55a35050945f79cd4e9a818f2f43fa6f",
    "hr_compensation.parquet": "94cb29784da0e7518e518b2b3696a083f98a33e993b050be5377adf0e65cbb09",
    "hr_employees.parquet": "57529c00b185980c96e4684342b0dd6e1354f72763b471da1ab3c3af00a470d9",
    "hr_engagement_surveys.parquet": (
        "7eb317c07990cb62a44e67bdae041a87e4877fe879017915fc3d67d70ab06b23"
    ),
    "hr_exit_interviews.parquet": (
        "b15e056e60f05a33be15db6d51948f557dc27313d50120b3064010ad72c4bccd"
    ),
    "hr_job_history.parquet": "1f866038a692dbef558379f27b5acc9b0d8ce85e4c9278a4cc6765fdf7bf99b9",
    "hr_performance_reviews.parquet": (
        "8679c2e0a70072d8fdc5f119905864fa5414fd303c15e831bdf82bde29ea9c5f"
    ),
    "sales_quotas.parquet": "ef95dbebe246dc62305c4e7778bd8cb6abaac2fc6175da586ea2b047a5605e43",
}

SMALL_DIRTY_COMPANY = {
    "_truth/dirty_manifest.csv": "ba6f865cf79dbc1641ed959f7a37f68495de5bbd0306da2d31eac1b080ea463c",
    "_truth/handovers.csv": "3c368dac457dccc5e38e2f823ee4986877e795abd5c98fc17cc22fb6443eedc7",
    "_truth/rep_months.csv": "7a8e8d8b2e2edd49cf17d4bd2bdd0e97ff3d1860f25ac5b21ab1ca1aa54a4881",
    "_truth/reps.csv": "2378e4f544844ff675a3fa9d83df689f618ddec92caf7c39bf14d8e90c41eaa1",
    "_truth/summary.json": "e215c471deabd05babd9cb4784e099363fffd77f1a10762d7e0232e71c137337",
    "crm_account_owner_history.csv": (
        "3967beec4d39d51d9c33d200cda3f30741cccd202bdb3dc2b9eb51eaa9273ee3"
    ),
    "crm_account_team.csv": "a1d85401689d925772627001b22159894e2a98fedbc7113ecaae1419861adedd",
    "crm_accounts.csv": "8f9ea8fe8e642d981b474e6796c4864a1964de6f6b7a99d5dba9875a221a0bb9",
    "crm_activities.csv": "32d40fb83454c163061b22a7b62b17fd9fefd19b98348f4145ec0ef06989b5f7",
    "crm_opportunities.csv": "21093b8b8f6b51d80d8f6be1d7d6853a4e6292905575cd70322b752500e770ea",
    "crm_opportunity_stage_history.csv": (
        "7fa6fb3de9476aee04fe74ba054f9e92bad3c47dba5d715e4af888b4c542e50b"
    ),
    "crm_users.csv": "8ac702cfc086d8676c582d37621fb8fd471d790780664be189f59046ee21a25e",
    "hr_compensation.csv": "84afd2201d90865fc14a626886979ed0594ca8f65fd9bad3dd24b808b26e1e55",
    "hr_employees.csv": "a38e53d58a655d45c27b6dbcfddb1fc540ef853914f2965d4fe922c2dd7bc814",
    "hr_engagement_surveys.csv": "19917528a88576d9855540d69d2de00425bec595cf3a74999f40f4d424036274",
    "hr_exit_interviews.csv": "a6976c132e50ac5dec7bf2f72faedcfb600b9528ff2bfea51600c44abdd2f497",
    "hr_job_history.csv": "9fc781fdfa2cead581a5eab2ee0b0741ae56d64bc98b2b81c41b5d3305126d42",
    "hr_performance_reviews.csv": (
        "023eb91131bb9298c1080636e22f5af75fcb1e06a91d87300cae3c8328dc78ad"
    ),
    "sales_quotas.csv": "35cb46524956980ca1b9c35064b39aebcb99420cbb5b45282cbad544191011e5",
}


def generate_digests(out: Path, **options: object) -> dict[str, str]:
    """Generate a company in-process; every written file (relative path) -> its SHA-256."""
    generate(GenerateRequest(out=out, as_of=AS_OF, **options), progress=lambda _: None)
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def test_the_default_company_is_byte_identical_to_its_pinned_checksums(tmp_path: Path) -> None:
    assert generate_digests(tmp_path, seed=42) == DEFAULT_COMPANY


def test_a_small_parquet_company_is_byte_identical_to_its_pinned_checksums(
    tmp_path: Path,
) -> None:
    digests = generate_digests(tmp_path, seed=3, reps=20, months=12, fmt="parquet")
    assert digests == SMALL_PARQUET_COMPANY


def test_a_small_dirty_company_is_byte_identical_to_its_pinned_checksums(tmp_path: Path) -> None:
    digests = generate_digests(tmp_path, seed=7, reps=20, months=12, dirty=True)
    assert digests == SMALL_DIRTY_COMPANY
