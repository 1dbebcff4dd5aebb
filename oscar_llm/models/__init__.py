"""The plugin's models: one module per feature plus the core ones, one app label (``oscar_llm``).

Features import their models from here (``from ..models import Ticket``); see docs/architecture.md.
"""

from .content import VOICE_CACHE_KEY, ContentDraft, ContentKind, ContentVersion, CustomerSegment, ShopVoice
from .core import FEATURE_CACHE_KEY, Feature, FeatureSwitch, Job
from .experiments import EXPERIMENTS_CACHE_KEY, Arm, Experiment, ExperimentExposure, ExperimentUnit
from .interactions import Interaction
from .marketing import (
    Campaign,
    CampaignClick,
    CampaignSend,
    CampaignVariant,
    CustomerProfile,
    Lifecycle,
    MarketingConsent,
    MarketingSegment,
    PriceSegment,
)
from .qa import QA_MAX_QUESTION_CHARS, ProductQuestion, QuestionVote
from .recommendations import (
    RECOMMENDATION_BLOCKS_CACHE_KEY,
    RECOMMENDATION_RULES_CACHE_KEY,
    BlockCode,
    ItemVector,
    RecommendationBlock,
    RecommendationList,
    RecommendationRule,
    RecommendationStat,
)
from .support import SUPPORT_MAX_MESSAGE_CHARS, KnowledgeArticle, Message, ReplyDraft, ReplyTemplate, Ticket

__all__ = [
    "EXPERIMENTS_CACHE_KEY",
    "Arm",
    "Experiment",
    "ExperimentExposure",
    "ExperimentUnit",
    "PriceSegment",
    "MarketingSegment",
    "MarketingConsent",
    "Lifecycle",
    "CustomerProfile",
    "CampaignVariant",
    "CampaignSend",
    "CampaignClick",
    "Campaign",
    "FEATURE_CACHE_KEY",
    "QA_MAX_QUESTION_CHARS",
    "RECOMMENDATION_BLOCKS_CACHE_KEY",
    "RECOMMENDATION_RULES_CACHE_KEY",
    "SUPPORT_MAX_MESSAGE_CHARS",
    "VOICE_CACHE_KEY",
    "BlockCode",
    "ContentDraft",
    "ContentKind",
    "ContentVersion",
    "CustomerSegment",
    "Feature",
    "FeatureSwitch",
    "Interaction",
    "ItemVector",
    "Job",
    "KnowledgeArticle",
    "Message",
    "ProductQuestion",
    "QuestionVote",
    "RecommendationBlock",
    "RecommendationList",
    "RecommendationRule",
    "RecommendationStat",
    "ReplyDraft",
    "ReplyTemplate",
    "ShopVoice",
    "Ticket",
]
