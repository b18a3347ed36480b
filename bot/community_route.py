"""One route: which community (小区) this resident is answered for.

`CommunityRoute.step` runs on every text before the intent's action; it is three
parts, so that a routing table can take them apart: `serve` (before routing: the
community of this turn, a mentioned name inferred), `check` (the route itself: only
looks, returns a CommunityChoice or None) and `act` (what the chosen step does and
says). Together they
- takes the answer to "which community?" (a number from the list or a name);
- infers the community from a name mentioned in any message, for an unbound
  resident or one with a home there (a switch);
- switches on request (切换小区) between the communities of the resident's homes;
- asks an unbound resident once, when there is more than one community and the
  answer depends on it (a fee that differs, a ticket that must belong to one), and
  keeps the question to answer it right after the choice; what is the same
  everywhere is answered at once.
Emergencies and requests for a person are never held up by the question.
The choice is remembered on the resident row (communities.residents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.menu import menu_choice
from bot.replies import Reply
from bot.state import ConversationState
from communities import context
from communities.directory import CommunityInfo
from communities.residents import ResidentCommunities
from handlers.texts import Texts
from knowledge_base.overrides import CommunityKnowledge
from nlu.decision import Decision

SWITCH = re.compile(r"^\s*(?:我要|我想|帮我)?(?:切换|更换|换|选择|重选)(?:一下)?(?:小区|社区|项目)"
                    r"\s*[。.!！?？]?\s*$")
# What is left of "我是蓝湾雅苑的业主" once the name is out: nothing else was said.
FILLER = re.compile(r"我是|我住在|我住|住在|我们|我家|业主|小区|社区|这边|那边|好的"
                    r"|是|的|在|嗯|哦|啊|呢|[\s，,。.!！?？~～、:：]")
NEVER_HOLD = frozenset({"emergency", "human"})
# A ticket belongs to one community: know which before the form starts.
NEEDS_COMMUNITY = frozenset({"repair", "complaint", "suggestion", "service_request"})
OFFER_SLOT = "community_offer"      # community ids offered as a numbered list
QUESTION_SLOT = "community_question"  # the message that was held for the question
ASKED_SLOT = "community_asked"      # asked once in this conversation


@dataclass(frozen=True)
class CommunityChoice:
    """What the route chose: `pick` a community (answer to the list, or only a name),
    list the resident's communities to `switch`, or `ask` which one."""

    kind: str  # pick | switch | ask
    community_id: int | None = None


@dataclass
class CommunityStep:
    """The outcome: who the turn is for, what was said, and the text still to answer."""

    community: CommunityInfo | None
    replies: list[Reply] = field(default_factory=list)
    text: str | None = None  # None: the turn ends with `replies`


def joined(said: list[Reply], replies: list[Reply]) -> list[Reply]:
    """The route's words lead the answer's first text in one message (one passive reply)."""
    if not said or not replies or replies[0].kind != "text" or said[-1].kind != "text":
        return said + replies
    first = Reply(text=said[-1].text + "\n" + replies[0].text)
    return [*said[:-1], first, *replies[1:]]


class CommunityRoute:
    def __init__(self, residents: ResidentCommunities, texts: Texts) -> None:
        self.residents = residents
        self.directory = residents.directory
        self.texts = texts
        self.knowledge = CommunityKnowledge(residents.sessions)

    def resolve(self, openid: str) -> CommunityInfo | None:
        """The community of this turn; a home's community is remembered on the resident
        row, once, so per-community counts know it."""
        return self.residents.resolve(openid, remember=True)

    def step(self, state: ConversationState, text: str, decision: Decision,
             current: CommunityInfo | None) -> CommunityStep:
        """Decide the community for this message (`current`: the resident's, from
        `resolve`); maybe answer the message itself."""
        community = self.serve(state, text, current)
        choice = self.check(state, text, decision, community)
        if state.slots.pop(OFFER_SLOT, None) and (choice is None or choice.kind != "pick"):
            state.slots.pop(QUESTION_SLOT, None)  # a list offered is answered now or never
        if choice is None:
            return CommunityStep(community, text=text)
        return self.act(choice, state, text, community)

    def serve(self, state: ConversationState, text: str,
              current: CommunityInfo | None) -> CommunityInfo | None:
        """Before routing: the community this message is answered for. A community the
        resident names is theirs from now on when they are unbound or have a home
        there; a question about another one (蓝湾雅苑停车费多少) is answered for it."""
        openid = state.openid
        mentioned = self.directory.mentioned(text)
        if mentioned is None:
            return current
        homes = self.residents.home_ids(openid)
        if (not homes or mentioned.id in homes) and (current is None or mentioned.id != current.id):
            self.residents.remember(openid, mentioned.id)  # inferred, or a switch of homes
        return mentioned

    def check(self, state: ConversationState, text: str, decision: Decision,
              community: CommunityInfo | None) -> CommunityChoice | None:
        """The route: does this message answer, ask for or need the community question?"""
        if decision.intent in NEVER_HOLD:  # the right phone number at once, nothing asked
            return None
        offered = state.slots.get(OFFER_SLOT)
        chosen = self._picked(text, offered) if offered else None
        mentioned = self.directory.mentioned(text) if chosen is None else None
        if mentioned is not None and self._only_names(text, mentioned):
            chosen = mentioned
        if chosen is not None:
            return CommunityChoice("pick", chosen.id)
        if SWITCH.match(text):
            return CommunityChoice("switch")
        if community is None and not state.slots.get(ASKED_SLOT) and not state.active_loop \
                and self.depends_on_community(decision):
            return CommunityChoice("ask")
        return None

    def act(self, choice: CommunityChoice, state: ConversationState, text: str,
            community: CommunityInfo | None) -> CommunityStep:
        """Do what the route chose: remember a pick, list the homes' communities, ask."""
        if choice.kind == "pick":
            chosen = self.directory.get(choice.community_id)
            if chosen is not None:
                return self._chosen(state, chosen)
        if choice.kind == "switch":
            return self._offer_switch(state, community, self.residents.home_ids(state.openid))
        if choice.kind == "ask":
            return self._ask(state, text)
        return CommunityStep(community, text=text)

    def welcome(self, state: ConversationState) -> list[Reply] | None:
        """A new follower whose community is not known: welcome without naming one, and
        offer the list (a question that depends on it may still ask, once).
        None: the usual welcome, for the resident's community."""
        choices = self.directory.list(active_only=True)
        if len(choices) < 2 or self.residents.resolve(state.openid) is not None:
            return None
        menu = self._menu("community_ask_intro", choices, state)
        return [Reply(text=self.texts("welcome_communities") + "\n" + menu.text)]

    # -- steps ---------------------------------------------------------------------------
    def _ask(self, state: ConversationState, text: str) -> CommunityStep:
        choices = self.directory.list(active_only=True)
        if len(choices) < 2:
            return CommunityStep(choices[0] if choices else None, text=text)
        state.slots[ASKED_SLOT] = True
        state.slots[QUESTION_SLOT] = text
        state.slots.pop("faq_menu", None)  # a number now answers this question
        return CommunityStep(None, [self._menu("community_ask_intro", choices, state)])

    def _offer_switch(self, state: ConversationState, current: CommunityInfo | None,
                      homes: list[int]) -> CommunityStep:
        if len(homes) == 1 and current is not None:
            with context.serving(current):
                return CommunityStep(current, [Reply(text=self.texts(
                    "community_only_one", community=current.name))])
        choices = [c for c in self.directory.list(active_only=True)
                   if not homes or c.id in homes]
        state.slots.pop(QUESTION_SLOT, None)
        return CommunityStep(current, [self._menu("community_switch_intro", choices, state)])

    def _chosen(self, state: ConversationState, chosen: CommunityInfo) -> CommunityStep:
        self.residents.remember(state.openid, chosen.id)
        question = state.slots.pop(QUESTION_SLOT, None)
        with context.serving(chosen):
            said = self.texts("community_set", community=chosen.name)
            if question is None:
                said += self.texts("community_set_outro")
        return CommunityStep(chosen, [Reply(text=said)], text=question)

    # -- helpers -------------------------------------------------------------------------
    def _menu(self, intro: str, choices: list[CommunityInfo],
              state: ConversationState) -> Reply:
        state.slots[OFFER_SLOT] = [c.id for c in choices]
        lines = [self.texts(intro)]
        lines += [self.texts("community_ask_item", number=i, community=c.name)
                  for i, c in enumerate(choices, 1)]
        lines.append(self.texts("community_ask_outro"))
        return Reply(text="\n".join(lines))

    def depends_on_community(self, decision: Decision) -> bool:
        """Would the reply differ between communities?"""
        if decision.intent in NEEDS_COMMUNITY:
            return True
        return decision.faq_id is not None and self.knowledge.varies(decision.faq_id)

    @staticmethod
    def _only_names(text: str, community: CommunityInfo) -> bool:
        for name in community.names:
            text = text.replace(name, "")
        return not FILLER.sub("", text)

    def _picked(self, text: str, offered: list[int]) -> CommunityInfo | None:
        number = menu_choice(text)
        if number is not None and 1 <= number <= len(offered):
            return self.directory.get(offered[number - 1])
        mentioned = self.directory.mentioned(text)
        return mentioned if mentioned is not None and mentioned.id in offered else None
